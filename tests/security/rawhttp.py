"""A raw HTTP/1.1 client over a socket: the request target is sent byte for byte, never normalised."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawReply:
    status: int | None  # None: no status line came back (reset, timeout, garbage)
    head: bytes
    body: bytes  # de-chunked when the reply was chunked
    framed: bool  # the body is exactly what Content-Length or the chunked framing announced
    error: str = ""

    @property
    def raw(self) -> bytes:
        return self.head + b"\r\n\r\n" + self.body


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    """The de-chunked body, and whether the chunks were well formed and ended with the last chunk."""
    out: list[bytes] = []
    rest = data
    while rest:
        size_line, found, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return data, False
        if not found:
            return b"".join(out), False
        if size == 0:
            return b"".join(out), rest in (b"\r\n", b"")
        if rest[size : size + 2] != b"\r\n":
            return b"".join(out) + rest[:size], False
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out), False


def raw_get(port: int, target: bytes, *, host: bytes | None = None, method: bytes = b"GET", timeout: float = 10) -> RawReply:
    """Send ``METHOD TARGET HTTP/1.1`` with ``Connection: close`` to 127.0.0.1:port; read to EOF."""
    host = host if host is not None else f"127.0.0.1:{port}".encode()
    request = method + b" " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\nAccept-Encoding: identity\r\n\r\n"
    chunks: list[bytes] = []
    error = ""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        error = repr(exc)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split(b" ")
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
    headers = [line.partition(b":") for line in head.lower().split(b"\r\n")[1:]]
    lengths = [value.strip() for name, _, value in headers if name.strip() == b"content-length"]
    framed = True
    if any(name.strip() == b"transfer-encoding" and b"chunked" in value for name, _, value in headers):
        body, framed = _dechunk(body)
    elif lengths:
        framed = len(set(lengths)) == 1 and lengths[0].isdigit() and int(lengths[0]) == len(body)
    if method == b"HEAD":
        framed = body == b""
    return RawReply(status, head, body, framed and not error, error)
