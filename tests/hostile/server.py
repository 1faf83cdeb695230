"""A fault-injecting HTTP server on 127.0.0.1: each route misbehaves in its own way, byte by byte.

``python -m tests.hostile.server`` prints ``{"base": "http://127.0.0.1:PORT"}`` and serves until
stdin closes. ``/__log`` returns, per connection, the path, when it was accepted and when the
client went away, so tests can check how long the crawler held on.
"""

from __future__ import annotations

import gzip
import json
import os
import select
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

Route = Callable[["Conn"], None]
ROUTES: dict[str, Route] = {}
LOG: list[dict[str, Any]] = []
LOG_LOCK = threading.Lock()
BOMB_SIZE = 64 * 1024 * 1024  # decompressed size of the bombs
PAGE = b"<html><head><title>Hostile</title></head><body><p>hostile page text</p></body></html>"


def route(path: str) -> Callable[[Route], Route]:
    def register(func: Route) -> Route:
        ROUTES[path] = func
        return func

    return register


class Conn:
    """The raw socket of one request, with helpers to write well- or ill-formed responses."""

    def __init__(self, sock: socket.socket, target: str):
        self.sock = sock
        self.target = target

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def head(self, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> None:
        # Connection: close everywhere: each request gets a connection of its own, so the log
        # can say how long the crawler held each one.
        lines = [f"HTTP/1.1 {status}", "Connection: close"] + [f"{k}: {v}" for k, v in (headers or [])]
        self.raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def page(self, body: bytes = PAGE, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> None:
        base = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        self.head(status, base + (headers or []))
        self.raw(body)

    def pause(self, seconds: float) -> None:
        """Sleep, but notice at once when the client hangs up (raises ConnectionResetError)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.sock], [], [], min(left, 0.05))
            if readable and not self.sock.recv(1, socket.MSG_PEEK):
                raise ConnectionResetError("the client went away")

    def hang(self, seconds: float = 120) -> None:
        """Keep the connection open and silent until the client gives up (or the time passes)."""
        self.sock.settimeout(seconds)
        try:
            while self.sock.recv(1024):
                pass
        except OSError:
            pass


def _bomb(compress: Callable[[bytes], bytes]) -> bytes:
    return compress(b"\0" * BOMB_SIZE)


_GZIP_BOMB = _bomb(lambda data: gzip.compress(data, compresslevel=9, mtime=0))
_DEFLATE_BOMB = _bomb(lambda data: zlib.compress(data, 9))


@route("/ok")
def ok(c: Conn) -> None:
    c.page()


@route("/incompressible")
def incompressible(c: Conn) -> None:
    """256 KiB of random bytes: fills a disk as fast as it is written (gzip cannot shrink it)."""
    c.page(os.urandom(256 * 1024), headers=[("Content-Type", "application/octet-stream")])


@route("/gzip-bomb")
def gzip_bomb(c: Conn) -> None:
    c.page(_GZIP_BOMB, headers=[("Content-Encoding", "gzip")])


@route("/deflate-bomb")
def deflate_bomb(c: Conn) -> None:
    c.page(_DEFLATE_BOMB, headers=[("Content-Encoding", "deflate")])


@route("/br-unasked")
def br_unasked(c: Conn) -> None:
    c.page(b"\x8b\x03\x80not really brotli\x03", headers=[("Content-Encoding", "br")])


@route("/double-gzip")
def double_gzip(c: Conn) -> None:
    c.page(gzip.compress(gzip.compress(PAGE, mtime=0), mtime=0), headers=[("Content-Encoding", "gzip, gzip")])


@route("/gzip-corrupt")
def gzip_corrupt(c: Conn) -> None:
    c.page(b"\x1f\x8b\x08\x00garbage that is not deflate data at all", headers=[("Content-Encoding", "gzip")])


@route("/encoding-unknown")
def encoding_unknown(c: Conn) -> None:
    c.page(PAGE, headers=[("Content-Encoding", "x-mystery")])


@route("/endless-chunked")
def endless_chunked(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        c.raw(chunk)


@route("/over-cap-declared")
def over_cap_declared(c: Conn) -> None:
    c.head(headers=[("Content-Type", "application/octet-stream"), ("Content-Length", str(100 * 1024 * 1024))])
    c.hang(30)


@route("/over-cap-chunked")
def over_cap_chunked(c: Conn) -> None:
    c.head(headers=[("Content-Type", "application/octet-stream"), ("Transfer-Encoding", "chunked")])
    for _ in range(800):  # 50 MiB, over the test's cap
        c.raw(b"%x\r\n%s\r\n" % (65536, b"b" * 65536))
    c.raw(b"0\r\n\r\n")


@route("/under-cap-large")
def under_cap_large(c: Conn) -> None:
    c.page(b"<html><body>" + b"x" * (1024 * 1024) + b"</body></html>")


@route("/cl-too-long")
def cl_too_long(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", "1000")])
    c.raw(PAGE[:60])


@route("/cl-too-short")
def cl_too_short(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", "20")])
    c.raw(PAGE)


@route("/cl-conflicting")
def cl_conflicting(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", "10"), ("Content-Length", "20")])
    c.raw(PAGE)


@route("/reset-mid-body")
def reset_mid_body(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", str(len(PAGE) * 4))])
    c.raw(PAGE)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


@route("/close-no-length")
def close_no_length(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Connection", "close")])
    c.raw(PAGE)


@route("/huge-headers")
def huge_headers(c: Conn) -> None:
    filler = [(f"X-Filler-{i}", "v" * 1000) for i in range(1024)]  # about 1 MB of headers
    c.page(headers=filler)


@route("/huge-header-line")
def huge_header_line(c: Conn) -> None:
    c.page(headers=[("X-Big", "v" * (1024 * 1024))])


@route("/set-cookie-flood")
def set_cookie_flood(c: Conn) -> None:
    c.page(headers=[("Set-Cookie", f"c{i}={i}; Path=/") for i in range(1000)])


@route("/many-links")
def many_links(c: Conn) -> None:
    links = b"".join(b'<a href="/l/%d">link %d</a> ' % (i, i) for i in range(10000))
    c.page(b"<html><body><p>" + links + b"</p></body></html>")


@route("/redirect-loop")
def redirect_loop(c: Conn) -> None:
    c.page(b"loop", status="302 Found", headers=[("Location", "/redirect-loop")])


@route("/chain")
def chain(c: Conn) -> None:
    hop = int(c.target.partition("?")[2] or 0)
    if hop >= 50:
        c.page()
    else:
        c.page(b"next", status="302 Found", headers=[("Location", f"/chain?{hop + 1}")])


@route("/meta-refresh-loop")
def meta_refresh_loop(c: Conn) -> None:
    c.page(b'<html><head><meta http-equiv="refresh" content="0; url=/meta-refresh-loop"></head></html>')


@route("/redirect-no-location")
def redirect_no_location(c: Conn) -> None:
    c.page(b"nowhere", status="302 Found")


@route("/redirect-bad-location")
def redirect_bad_location(c: Conn) -> None:
    c.page(b"bad", status="301 Moved Permanently", headers=[("Location", "http://[not-an-address/x")])


@route("/redirect-long-location")
def redirect_long_location(c: Conn) -> None:
    c.page(b"long", status="302 Found", headers=[("Location", "/ok?" + "q" * 100_000)])


@route("/redirect-unicode")
def redirect_unicode(c: Conn) -> None:
    c.page(b"u", status="302 Found", headers=[("Location", "/ok?k\u00e4lla=\u00e5")])


@route("/hang-before-headers")
def hang_before_headers(c: Conn) -> None:
    c.hang()


@route("/hang-after-headers")
def hang_after_headers(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", "5000")])
    c.hang()


@route("/drip")
def drip(c: Conn) -> None:
    c.head(headers=[("Content-Type", "text/html"), ("Content-Length", "100")])
    for _ in range(100):
        c.raw(b"x")
        c.pause(5)


@route("/slow-headers")
def slow_headers(c: Conn) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n":
        c.raw(bytes([byte]))
        c.pause(0.5)


@route("/invalid-status-line")
def invalid_status_line(c: Conn) -> None:
    c.raw(b"HTTP/1.1 abc Whatever\r\nContent-Length: 2\r\n\r\nhi")


@route("/http09")
def http09(c: Conn) -> None:
    c.raw(PAGE)


@route("/empty-response")
def empty_response(c: Conn) -> None:
    pass


@route("/garbage-response")
def garbage_response(c: Conn) -> None:
    c.raw(bytes(range(256)) * 4)


@route("/status-204")
def status_204(c: Conn) -> None:
    c.head("204 No Content")


@route("/status-304")
def status_304(c: Conn) -> None:
    c.head("304 Not Modified")


@route("/status-999")
def status_999(c: Conn) -> None:
    c.page(status="999 Strange")


@route("/status-410")
def status_410(c: Conn) -> None:
    c.page(b"gone", status="410 Gone")


@route("/lying-charset")
def lying_charset(c: Conn) -> None:
    c.page("<html><body><p>K\u00e4lla p\u00e5 svenska</p></body></html>".encode("latin-1"))


@route("/nul-in-header")
def nul_in_header(c: Conn) -> None:
    c.page(headers=[("X-Nul", "a\0b")])


@route("/obs-fold")
def obs_fold(c: Conn) -> None:
    c.raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Folded: one\r\n  two\r\nContent-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))


@route("/trailing-garbage")
def trailing_garbage(c: Conn) -> None:
    c.page()
    c.raw(b"HTTP/1.1 200 OK\r\nthis should never be read\r\n\r\n")


@route("/binary-as-html")
def binary_as_html(c: Conn) -> None:
    c.page(bytes(range(256)) * 64)


class Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        started = time.time()
        entry: dict[str, Any] = {"path": None, "accepted": started, "closed": None}
        try:
            sock.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                data += chunk
            request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
            target = request_line.split(" ")[1] if " " in request_line else "/"
            path = target.partition("?")[0]
            entry["path"] = path
            if path == "/__log":
                with LOG_LOCK:
                    body = json.dumps(LOG).encode()
                Conn(sock, target).page(body, headers=[("Connection", "close")])
                return
            with LOG_LOCK:
                LOG.append(entry)
            handler = ROUTES.get(path)
            conn = Conn(sock, target)
            if handler is None:
                conn.page(b"no such route", status="404 Not Found")
            else:
                handler(conn)
            sock.shutdown(socket.SHUT_WR)
            # Read until the client hangs up, so "closed" is when the crawler let go.
            sock.settimeout(120)
            while sock.recv(65536):
                pass
        except OSError:
            pass
        finally:
            entry["closed"] = time.time()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"base": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()


if __name__ == "__main__":
    main()
