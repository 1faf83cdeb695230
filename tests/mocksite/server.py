"""The mock blog and mock cited sites as two stdlib HTTP servers writing exact bytes."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.mocksite import content
from tests.mocksite.content import MockResponse

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
        if path == "/__reset":
            with self.server.received_lock:
                self.server.received.clear()
            self.send(MockResponse(200, (("Content-Type", "text/plain"),), b"reset\n"), head)
            return
        with self.server.received_lock:
            self.server.received.append(
                {
                    "requestline": self.requestline,
                    "method": self.command,
                    "target": self.path,
                    "version": self.request_version,
                    "headers": [[name, value] for name, value in self.headers.items()],
                    "time": time.time(),
                }
            )
        self.send(self.server.responder(self.path, self), head)

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
    if path == "/slow.html":
        try:
            delay = content.slow_delay(query)
        except ValueError:
            return MockResponse(400, (("Content-Type", "text/plain"),), b"bad delay\n")
        time.sleep(delay)
    return content.site_response(target, handler.headers.get("Accept-Encoding", ""))


def respond_blog(target: str, handler: MockHandler) -> MockResponse:
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
