"""Tests for archive.wireform: what is synthesised and what is kept as received."""

from __future__ import annotations

import pytest

from archive.wireform import (
    SYNTHESIS_NOTE,
    host_header,
    reason_phrase,
    request_http_headers,
    request_target,
    response_http_headers,
)
from tests.archive.factories import GZ_BODY, gzip_capture, not_found_capture


def test_response_block_keeps_order_repeats_and_encoding() -> None:
    block = response_http_headers(gzip_capture())
    assert block.protocol == "HTTP/1.1"
    assert block.statusline == "200 OK"
    assert block.headers == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Content-Encoding", "gzip"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Content-Length", str(len(GZ_BODY))),
    ]


def test_content_length_replaced_in_place() -> None:
    capture = not_found_capture(
        headers=[("content-length", "999"), ("X-A", "1"), ("Content-Length", "7")]
    )
    block = response_http_headers(capture)
    assert block.statusline == "404 Not Found"
    assert block.headers == [("content-length", str(len(capture.body))), ("X-A", "1")]


@pytest.mark.parametrize(
    "name",
    [
        "Transfer-Encoding",
        "Connection",
        "Keep-Alive",
        "TE",
        "Trailer",
        "Upgrade",
        "Proxy-Connection",
    ],
)
def test_hop_by_hop_headers_removed(name: str) -> None:
    block = response_http_headers(not_found_capture(headers=[(name, "x"), ("X-Kept", "y")]))
    assert [n for n, _ in block.headers] == ["X-Kept", "Content-Length"]


@pytest.mark.parametrize(
    ("status", "reason"), [(200, "OK"), (301, "Moved Permanently"), (599, ""), (299, "")]
)
def test_reason_phrase(status: int, reason: str) -> None:
    assert reason_phrase(status) == reason
    assert (
        response_http_headers(not_found_capture(status=status)).statusline == f"{status} {reason}"
    )


def test_protocol_defaults_to_http11() -> None:
    assert response_http_headers(not_found_capture(protocol="")).protocol == "HTTP/1.1"
    assert response_http_headers(not_found_capture(protocol="HTTP/1.0")).protocol == "HTTP/1.0"


@pytest.mark.parametrize("status", [204, 304])
def test_no_length_invented_for_bodiless_statuses(status: int) -> None:
    block = response_http_headers(not_found_capture(status=status, headers=[], body=b""))
    assert block.headers == []


def test_latin1_header_bytes_survive() -> None:
    raw = 'attachment; filename="caf\xc3\xa9.pdf"'  # UTF-8 bytes read as latin-1
    block = response_http_headers(not_found_capture(headers=[("Content-Disposition", raw)]))
    block.compute_headers_buffer()
    assert b'filename="caf\xc3\xa9.pdf"' in block.headers_buff


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://example.com", "/"),
        ("http://example.com?x=1", "/?x=1"),
        ("http://example.com/a/b?b=2&a=1&q=x%20y", "/a/b?b=2&a=1&q=x%20y"),
        ("http://example.com/a?", "/a?"),
        ("http://example.com/a?x=1#frag", "/a?x=1"),
    ],
)
def test_request_target(url: str, target: str) -> None:
    assert request_target(url) == target


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com:80/", "example.com"),
        ("https://user:pw@Example.com:443/x", "Example.com"),
        ("https://example.com:8443/x", "example.com:8443"),
        ("http://[::1]:8080/", "[::1]:8080"),
        ("http://[::1]:80/", "[::1]"),
    ],
)
def test_host_header(url: str, host: str) -> None:
    assert host_header(url) == host


def test_request_block() -> None:
    block = request_http_headers(gzip_capture())
    assert block.protocol == "GET"
    assert block.statusline == "/post/1?b=2&a=1&q=x%20y HTTP/1.1"
    assert block.headers == [
        ("Host", "example.com"),
        ("User-Agent", "citearchive-test"),
        ("Accept-Encoding", "gzip"),
    ]
    assert block.to_str().startswith(
        "GET /post/1?b=2&a=1&q=x%20y HTTP/1.1\r\nHost: example.com\r\n"
    )


def test_request_keeps_host_and_sets_body_length() -> None:
    capture = gzip_capture(
        method="post",
        request_headers=[("X-A", "1"), ("host", "h.example")],
        request_body=b"a=1&b=2",
    )
    block = request_http_headers(capture)
    assert block.protocol == "POST"
    assert block.headers == [("X-A", "1"), ("host", "h.example"), ("Content-Length", "7")]


def test_synthesis_note_is_one_line() -> None:
    assert "\n" not in SYNTHESIS_NOTE and "reason phrase" in SYNTHESIS_NOTE
