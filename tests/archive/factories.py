"""Captures, pinned ids and checks shared by the archive tests."""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from archive.capture import Capture

# gzip.compress(b"<html><body>Hello, archive</body></html>\n", mtime=0), as a literal so
# the golden digests do not depend on the local zlib.
GZ_BODY = (
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xb3\xc9(\xc9\xcd\xb1\xb3I\xcaO\xa9\xb4\xf3H"
    b"\xcd\xc9\xc9\xd7QH,J\xce\xc8,K\xb5\xd1\x07\x0b\xda\xe8\x83Up\x01\x00\xf6\xbdGw)\x00\x00\x00"
)
FETCHED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
CLOCK = datetime(2024, 5, 6, 7, 0, 0, tzinfo=UTC)


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def gzip_capture(**overrides: object) -> Capture:
    """A 200 with a gzip body, repeated Set-Cookie, a chunked hop and a query string."""
    fields: dict[str, object] = {
        "url": "http://example.com/post/1?b=2&a=1&q=x%20y",
        "method": "GET",
        "status": 200,
        "protocol": "HTTP/1.1",
        "headers": [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Encoding", "gzip"),
            ("Set-Cookie", "b=2; Path=/"),
            ("Connection", "keep-alive"),
        ],
        "body": GZ_BODY,
        "request_headers": [("User-Agent", "citearchive-test"), ("Accept-Encoding", "gzip")],
        "fetched_at": FETCHED,
        "ip": "127.0.0.1",
    }
    fields.update(overrides)
    return Capture(**fields)  # type: ignore[arg-type]


def not_found_capture(**overrides: object) -> Capture:
    fields: dict[str, object] = {
        "url": "https://example.org/missing",
        "method": "GET",
        "status": 404,
        "protocol": "HTTP/1.1",
        "headers": [("Content-Type", "text/plain"), ("Content-Length", "999")],
        "body": b"no such page\n",
        "request_headers": [("User-Agent", "citearchive-test")],
        "fetched_at": datetime(2024, 5, 6, 7, 8, 10, tzinfo=UTC),
    }
    fields.update(overrides)
    return Capture(**fields)  # type: ignore[arg-type]


def pinned_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>"


def warcio_check(path: Path) -> int:
    """Run ``warcio check`` (digests and framing) on ``path``; 0 means it passed."""
    from warcio.checker import Checker

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = Checker(argparse.Namespace(inputs=[str(path)], verbose=False)).process_all()
    assert result == 0, out.getvalue()
    return int(result)
