"""The replay process: pywb on the archive origin, the landing app on its own origin, served by gevent."""

from __future__ import annotations

import logging
import os
import signal
import sys
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.replay.bounds import DEFAULT_MAX_DECODED, BoundedRewriter
from archive.replay.confine import confine_archive_app
from archive.replay.isolation import ArchiveHeaders, RequestGuard

if TYPE_CHECKING:
    from archive.replay.isolation import WsgiApp

logger = logging.getLogger(__name__)

__all__ = ["ReplayOptions", "build_archive_app", "build_landing_app", "serve"]

_UNSPECIFIED = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class ReplayOptions:
    out: Path
    host: str = "127.0.0.1"
    port: int = 8080
    archive_host: str | None = None
    archive_port: int | None = None
    max_decoded: int = DEFAULT_MAX_DECODED


def url_host(host: str) -> str:
    """``host`` as it goes in a URL: an unspecified address becomes loopback, IPv6 gets brackets."""
    if host in _UNSPECIFIED:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """Host headers the server answers to; None (no check) when it listens on every address."""
    if host in _UNSPECIFIED:
        return None
    names = {url_host(host), "127.0.0.1", "localhost", "[::1]"}
    return {f"{name}:{port}" for name in names}


def build_archive_app(out: Path, max_decoded: int = DEFAULT_MAX_DECODED) -> Any:
    """pywb's FrontEndApp over ``out/collections``, file reads confined, decoding bounded. Imports pywb (and gevent's patches)."""
    from pywb.apps.frontendapp import FrontEndApp

    collections = (out / "collections").resolve()
    with as_file(files("archive.replay").joinpath("pywb.yaml")) as config_file:
        app = FrontEndApp(config_file=str(config_file), custom_config={"collections_root": str(collections)})
    confine_archive_app(app)
    app.rewriterapp.default_rw = BoundedRewriter(app.rewriterapp.default_rw, max_decoded)
    app.rewriterapp.js_proxy_rw = BoundedRewriter(app.rewriterapp.js_proxy_rw, max_decoded)
    return app


def build_landing_app(out: Path, archive_origin: str) -> WsgiApp:
    from archive.replay.catalog import Catalog
    from archive.replay.landing import LandingApp

    return LandingApp(Catalog(out / "collections"), archive_origin)


def _server_class() -> Any:
    """gevent's WSGIServer, sending each write at once (TCP_NODELAY on every accepted connection).

    pywb answers in several writes (headers, then body chunks). With Nagle's
    algorithm the second small write waits for the client's ACK of the first,
    which a keep-alive client delays by up to 40 ms: measured, that was 45 of
    the 48 ms a replayed capture took.
    """
    import socket

    from gevent import pywsgi

    class NoDelayWSGIServer(pywsgi.WSGIServer):  # type: ignore[misc]  # untyped third-party base
        def handle(self, sock: Any, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return super().handle(sock, address)

    return NoDelayWSGIServer


def serve(options: ReplayOptions, ready: Any = None) -> None:
    """Listen on both origins until SIGINT or SIGTERM; ``ready(landing_url, archive_url)`` once bound."""
    out = options.out.resolve()
    # Like `wayback -d OUT`: pywb's relative paths (static/, templates/) resolve inside OUT, not the caller's cwd.
    os.chdir(out)
    archive_app = build_archive_app(out, options.max_decoded)

    import gevent
    from gevent.event import Event

    archive_host = options.archive_host or options.host
    archive_port = options.archive_port if options.archive_port is not None else (options.port + 1 if options.port else 0)
    archive_log, landing_log = logging.getLogger("replay.archive"), logging.getLogger("replay.landing")
    server_class = _server_class()
    archive_server = server_class((archive_host, archive_port), None, log=archive_log, error_log=logger)
    landing_server = server_class((options.host, options.port), None, log=landing_log, error_log=logger)
    archive_server.init_socket()
    landing_server.init_socket()
    archive_origin = f"http://{url_host(archive_host)}:{archive_server.server_port}"
    landing_origin = f"http://{url_host(options.host)}:{landing_server.server_port}"

    archive_server.application = RequestGuard(
        ArchiveHeaders(archive_app), allowed_hosts(archive_host, archive_server.server_port)
    )
    landing_server.application = RequestGuard(
        build_landing_app(out, archive_origin), allowed_hosts(options.host, landing_server.server_port)
    )
    archive_server.start()
    landing_server.start()
    if ready is not None:
        ready(landing_origin + "/", archive_origin + "/")
    stop = Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    try:
        stop.wait()
    finally:
        landing_server.stop(timeout=2)
        archive_server.stop(timeout=2)
        sys.stdout.flush()
