"""An HTTP proxy on 127.0.0.1 that refuses every request and records it: a browser's way off loopback, closed.

Chromium started with ``--proxy-server`` set to it (and loopback bypassed) sends every request
for another host here, from pages, workers and service workers alike, which playwright's
routing does not all see; the test then knows what was tried and that none of it was needed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RefusingProxy:
    url: str  # http://127.0.0.1:PORT
    refused: list[str] = field(default_factory=list)  # "METHOD target", oldest first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, line: str) -> None:
        with self.lock:
            self.refused.append(line)


class RefuseHandler(BaseHTTPRequestHandler):
    def __init__(self, *args: Any, proxy: RefusingProxy, **kwargs: Any) -> None:
        self.proxy = proxy
        super().__init__(*args, **kwargs)

    def refuse(self) -> None:
        self.proxy.record(f"{self.command} {self.path}")
        self.send_response(HTTPStatus.FORBIDDEN)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_CONNECT = refuse

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextmanager
def refusing_proxy() -> Iterator[RefusingProxy]:
    """Run the proxy on a free 127.0.0.1 port in a thread for the duration of the block."""
    proxy = RefusingProxy("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RefuseHandler, proxy=proxy))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
