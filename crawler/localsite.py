"""Serve folders of static files on 127.0.0.1, one origin per site, for the demo and the tests."""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

logger = logging.getLogger(__name__)

#: Per-site redirect table, read from the site's root; never served itself.
ROUTES_FILE = "_routes.json"

#: ``{{site:NAME}}`` in a text response becomes NAME's base URL without the trailing slash.
PLACEHOLDER = re.compile(rb"\{\{site:([A-Za-z0-9_.-]+)\}\}")

# A private table: the built-in defaults only, not /etc/mime.types, so every host answers alike.
_MIME = mimetypes.MimeTypes()
_MIME.add_type("font/woff", ".woff")  # RFC 8081; not among Python 3.11's defaults
_MIME.add_type("font/woff2", ".woff2")
_TEXT_TYPES = frozenset(
    {"text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"}
)

Transform = Callable[[bytes], bytes]


@dataclass(frozen=True)
class Redirect:
    """One entry of ``_routes.json``: answer ``status`` with ``Location: location``."""

    status: int
    location: str


def load_routes(path: Path) -> dict[str, Redirect]:
    """Read ``{"/old.html": {"status": 301, "location": "/new.html"}}`` from ``path``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Cannot read {path}: {exc}; fix or remove the file") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path} must hold a JSON object mapping paths to redirects")
    routes: dict[str, Redirect] = {}
    for route, spec in raw.items():
        if not (
            route.startswith("/")
            and isinstance(spec, dict)
            and isinstance(spec.get("status"), int)
            and 300 <= spec["status"] < 400
            and isinstance(spec.get("location"), str)
        ):
            raise ValueError(
                f"{path}: route {route!r} needs a path starting with '/' and "
                '{"status": 3xx, "location": "..."}'
            )
        routes[route] = Redirect(spec["status"], spec["location"])
    return routes


def _page(title: str, text: str) -> bytes:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body><h1>{title}</h1><p>{text}</p></body></html>\n"
    ).encode()


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: SiteServer, address: tuple[str, int]) -> None:
        self.site = site
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _SiteHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up idle keep-alive connections so their handler threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer


class _SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "citearchive-localsite/1"
    timeout = 30  # seconds an idle keep-alive connection may wait for its next request
    server: _SiteHTTPServer

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self, head: bool) -> None:
        site = self.server.site
        target = urlsplit(self.path)
        redirect = site.routes.get(target.path)
        if redirect is not None:
            location = site.transform(redirect.location.encode()).decode()
            body = _page("Moved", f'<a href="{html.escape(location)}">{html.escape(location)}</a>')
            self._send(redirect.status, "text/html; charset=utf-8", body, head, location)
            return
        status, file = site.resolve(target.path)
        if status == HTTPStatus.MOVED_PERMANENTLY:
            location = target.path + "/" + (f"?{target.query}" if target.query else "")
            body = _page("Moved", f'<a href="{html.escape(location)}">{html.escape(location)}</a>')
            self._send(status, "text/html; charset=utf-8", body, head, location)
            return
        if file is None:
            phrase = HTTPStatus(status).phrase
            body = _page(f"{status} {phrase}", f"No page at {html.escape(target.path)}")
            self._send(status, "text/html; charset=utf-8", body, head)
            return
        content_type = _MIME.guess_type(file.name)[0] or "application/octet-stream"
        try:
            body = file.read_bytes()
        except OSError:
            logger.warning("Cannot read %(file)s", {"file": file}, exc_info=True)
            body = _page("500 Internal Server Error", "The file could not be read.")
            self._send(500, "text/html; charset=utf-8", body, head)
            return
        if content_type in _TEXT_TYPES:
            body = site.transform(body)
            content_type += "; charset=utf-8"
        self._send(200, content_type, body, head)

    def _send(
        self, status: int, content_type: str, body: bytes, head: bool, location: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if location is not None:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _identity(data: bytes) -> bytes:
    return data


class SiteServer:
    """Serve the files under ``root`` at ``base_url`` from a background thread.

    ``transform`` rewrites the bytes of text responses (HTML, CSS, JS, SVG) and redirect
    locations; ``routes`` (default: the site's ``_routes.json``) maps paths to redirects.
    Names starting with ``.`` or ``_`` are never served, nor is anything outside ``root``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        transform: Transform | None = None,
        routes: Mapping[str, Redirect] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ValueError(f"{self.root} is not a directory; pass the folder holding the site")
        self.host = host
        self.transform: Transform = transform or _identity
        if routes is None:
            routes_file = self.root / ROUTES_FILE
            routes = load_routes(routes_file) if routes_file.is_file() else {}
        self.routes: dict[str, Redirect] = dict(routes)
        self._requested_port = port
        self._httpd: _SiteHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("The server is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` once started."""
        return f"http://{self.host}:{self.port}/"

    def url(self, path: str = "/") -> str:
        return self.base_url + path.lstrip("/")

    def resolve(self, url_path: str) -> tuple[int, Path | None]:
        """Map a URL path to ``(status, file)``; ``file`` is None unless the status is 200."""
        try:
            relative = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return HTTPStatus.NOT_FOUND, None
        if "\x00" in relative or "\\" in relative:
            return HTTPStatus.NOT_FOUND, None
        parts = [part for part in relative.split("/") if part]
        if any(part.startswith((".", "_")) for part in parts):
            return HTTPStatus.NOT_FOUND, None
        candidate = self.root.joinpath(*parts).resolve()
        if not candidate.is_relative_to(self.root):
            return HTTPStatus.FORBIDDEN, None  # a symlink pointing out of the site
        if candidate.is_dir():
            if not url_path.endswith("/"):
                return HTTPStatus.MOVED_PERMANENTLY, None
            candidate = candidate / "index.html"
        if not candidate.is_file():
            return HTTPStatus.NOT_FOUND, None
        return HTTPStatus.OK, candidate

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("The server is already running")
        self._httpd = _SiteHTTPServer(self, (self.host, self._requested_port))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},  # how long stop() may wait for the loop to notice
            name=f"localsite-{self.root.name}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("Serving %(root)s at %(url)s", {"root": self.root, "url": self.base_url})
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SiteGroup:
    """One :class:`SiteServer` per subdirectory of ``root``, each its own origin.

    Text responses and redirect locations have ``{{site:NAME}}`` replaced with the base URL
    of site NAME without its trailing slash, so pages can link across origins.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, host: str = "127.0.0.1", ports: Mapping[str, int] | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.host = host
        names = sorted(
            entry.name
            for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith((".", "_"))
        )
        if not names:
            raise ValueError(f"{self.root} has no site folders; add one subdirectory per site")
        #: The ports asked for (``ports``: each site's, 0 or missing for any free port).
        self.preferred = {name: int((ports or {}).get(name, 0)) for name in names}
        self.servers: dict[str, SiteServer] = self._servers(self.preferred)

    def _servers(self, ports: Mapping[str, int]) -> dict[str, SiteServer]:
        return {
            name: SiteServer(self.root / name, host=self.host, port=port, transform=self.render)
            for name, port in ports.items()
        }

    @property
    def ports(self) -> dict[str, int]:
        """Each running site's port."""
        return {name: server.port for name, server in self.servers.items()}

    def __getitem__(self, name: str) -> SiteServer:
        return self.servers[name]

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: server.base_url for name, server in self.servers.items()}

    def url(self, name: str, path: str = "/") -> str:
        """The URL of ``path`` on site ``name``."""
        return self.servers[name].url(path)

    def render(self, data: bytes) -> bytes:
        """Replace every ``{{site:NAME}}`` placeholder; unknown names are left as they are."""

        def substitute(match: re.Match[bytes]) -> bytes:
            server = self.servers.get(match.group(1).decode("ascii"))
            if server is None or not server.running:
                logger.warning("No running site for placeholder %(p)r", {"p": match.group(0)})
                return match.group(0)
            return server.base_url.rstrip("/").encode("ascii")

        return PLACEHOLDER.sub(substitute, data)

    def start(self) -> Self:
        """Start every site, on its preferred port; if one is taken, every site on a free port instead."""
        try:
            self._start_all()
        except OSError:
            if not any(self.preferred.values()):
                raise
            logger.info("A preferred port is taken: serving every site on a free port")
            self.servers = self._servers(dict.fromkeys(self.servers, 0))
            self._start_all()
        return self

    def _start_all(self) -> None:
        started: list[SiteServer] = []
        try:
            for server in self.servers.values():
                started.append(server.start())
        except BaseException:
            for server in started:
                server.stop()
            raise

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
