"""The mock blog and mock cited sites as two stdlib HTTP servers writing exact bytes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.mocksite import content, jspages, render
from tests.mocksite.content import MockResponse
from tests.mocksite.live import LiveState
from tests.mocksite.polite import PoliteState

logger = logging.getLogger(__name__)

#: (target, handler) → response; the handler gives access to request headers and the server.
Responder = Callable[[str, "MockHandler"], MockResponse]


class MockServer(ThreadingHTTPServer):
    """A threaded server that remembers every request it answered (see ``/__requests``)."""

    daemon_threads = True

    def __init__(self, port: int, responder: Responder) -> None:
        self.responder = responder
        self.received: list[dict[str, Any]] = []
        self.received_lock = threading.Lock()
        self.sites_url = ""  # the blog server cites pages here
        self.live = LiveState()  # /live/ pages tests change between runs (see /__set)
        self.polite = PoliteState()  # robots.txt and /polite/ pages (Retry-After attempt counters)
        super().__init__(("127.0.0.1", port), MockHandler)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mocksite/1.0"
    timeout = 60
    server: MockServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def _handle(self, head: bool) -> None:
        path = self.path.partition("?")[0]
        if path == "/__requests":
            with self.server.received_lock:
                body = json.dumps(self.server.received, indent=1).encode()
            self.send(MockResponse(200, (("Content-Type", "application/json"),), body), head)
            return
        if path == "/__set":
            self.send(self.server.live.set(self.path.partition("?")[2]), head)
            return
        if path == "/__reset":
            with self.server.received_lock:
                self.server.received.clear()
            self.send(MockResponse(200, (("Content-Type", "text/plain"),), b"reset\n"), head)
            return
        entry = {
            "requestline": self.requestline,
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": [[name, value] for name, value in self.headers.items()],
            "time": time.time(),
        }
        with self.server.received_lock:
            self.server.received.append(entry)
        self.send(self.server.responder(self.path, self), head)
        with self.server.received_lock:
            entry["done"] = time.time()  # the whole response written: politeness tests check overlaps

    def send(self, response: MockResponse, head: bool = False) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        chunked = bool(response.chunks) and self.request_version != "HTTP/1.0"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if head:
            return
        if chunked:
            # RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF; a zero-size chunk ends the body.
            # wfile is unbuffered, so each chunk leaves in its own write.
            for chunk in response.chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(response.body)


def respond_sites(target: str, handler: MockHandler) -> MockResponse:
    path, _, query = target.partition("?")
    if path in ("/redirect-to", "/meta-refresh"):
        return redirect_to(path, query)
    if path == "/slow.html":
        try:
            delay = content.slow_delay(query)
        except ValueError:
            return MockResponse(400, (("Content-Type", "text/plain"),), b"bad delay\n")
        time.sleep(delay)
    polite = handler.server.polite.respond(target)  # /robots.txt and /polite/ pages
    if polite is not None:
        return polite
    live = handler.server.live.respond(path)
    if live is not None:
        return live
    requisite = render.site_response(target, handler.server.base_url)  # /render/ pages
    if requisite is None:  # /js/ pages, built by JavaScript (browser mode)
        requisite = jspages.site_response(target, handler.headers.get("Accept-Encoding", ""))
    if requisite is not None:
        return requisite
    return content.site_response(target, handler.headers.get("Accept-Encoding", ""))


def redirect_to(path: str, query: str) -> MockResponse:
    """``/redirect-to?url=U`` answers 302 to U; ``/meta-refresh?url=U`` a page refreshing to U."""
    from html import escape
    from urllib.parse import parse_qs

    location = parse_qs(query).get("url", ["/"])[0]
    if path == "/redirect-to":
        return MockResponse(302, (("Location", location), ("Content-Type", "text/plain")), b"redirecting\n")
    page = f'<html><head><meta http-equiv="refresh" content="0; url={escape(location)}"></head><body>moved</body></html>'
    return MockResponse(200, (("Content-Type", "text/html; charset=utf-8"),), page.encode("utf-8"))


def respond_blog(target: str, handler: MockHandler) -> MockResponse:
    post = render.blog_response(target, handler.server.sites_url)  # the requisite posts
    if post is None:  # the JavaScript posts (browser mode)
        post = jspages.blog_response(target, handler.server.sites_url)
    if post is not None:
        return post
    return content.blog_response(target, handler.server.sites_url)


def serve(server: MockServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"mocksite-{server.base_url}",
    )
    thread.daemon = True
    thread.start()
    return thread
