"""tests/rangeserver.py answers byte ranges as ReplayWeb.page asks for them (RFC 9110 §14)."""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

from tests.rangeserver import parse_range, static_server


def test_parse_range() -> None:
    assert parse_range("bytes=0-", 10) == (0, 9)
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes=5-99", 10) == (5, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=-30", 10) == (0, 9)
    assert parse_range("bytes=10-", 10) is None
    assert parse_range("bytes=4-2", 10) is None
    assert parse_range("bytes=-", 10) is None
    assert parse_range("bytes=0-1,4-5", 10) is None  # one range only: ReplayWeb.page never asks for more


def test_ranges_are_served(tmp_path: Path) -> None:
    data = os.urandom(100_000)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "x.wacz").write_bytes(data)
    with static_server(tmp_path / "site", tmp_path / "log.jsonl") as server:
        port = urlsplit(server.url).port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        replies = []
        for method, header in [("GET", "bytes=-65558"), ("GET", "bytes=100-199"), ("HEAD", "bytes=0-"), ("GET", None), ("GET", "bytes=200000-")]:
            conn.request(method, "/x.wacz", headers={"Range": header} if header else {})
            response = conn.getresponse()  # one keep-alive connection: every length must be right
            replies.append((response.status, response.getheader("Content-Range"), response.read()))
        conn.close()
    assert replies[0] == (206, "bytes 34442-99999/100000", data[-65558:])
    assert replies[1] == (206, "bytes 100-199/100000", data[100:200])
    assert replies[2] == (206, "bytes 0-99999/100000", b"")
    assert replies[3] == (200, None, data)
    assert replies[4] == (416, "bytes */100000", b"")
    assert [entry["status"] for entry in server.requests()] == [206, 206, 206, 200, 416]
