"""The capture middleware turns a raw Scrapy response into a Capture, and notes each hop."""

from __future__ import annotations

import gzip

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.http.headers import Headers

from crawler.middlewares.capture import capture_from_response, header_tuples


def test_header_tuples_keep_repeats_and_order() -> None:
    headers = Headers()
    headers.appendlist("Set-Cookie", "a=1")
    headers.appendlist("Content-Type", "text/html")
    headers.appendlist("Set-Cookie", "b=2")
    assert header_tuples(headers) == [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Type", "text/html")]


def test_capture_keeps_the_raw_encoded_body() -> None:
    body = gzip.compress(b"<p>hello</p>", mtime=0)
    request = Request(
        "http://example.org/a?b=1",
        headers={"Accept-Encoding": "gzip, deflate", "Proxy-Authorization": "Basic c2VjcmV0"},
    )
    request.meta["download_latency"] = 0.25
    response = HtmlResponse(
        "http://example.org/a?b=1",
        status=200,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
        body=body,
        request=request,
        protocol="HTTP/1.1",
        ip_address=None,
    )
    capture = capture_from_response(request, response)
    assert capture.body == body
    assert capture.url == "http://example.org/a?b=1"
    assert ("Content-Encoding", "gzip") in capture.headers
    assert ("Proxy-Authorization", "Basic c2VjcmV0") not in capture.request_headers
    assert ("Accept-Encoding", "gzip, deflate") in capture.request_headers
    assert capture.protocol == "HTTP/1.1"
    assert capture.truncated is None


def test_dataloss_marks_the_capture_truncated() -> None:
    request = Request("http://example.org/")
    response = HtmlResponse("http://example.org/", body=b"<p>half", flags=["dataloss"], request=request)
    assert capture_from_response(request, response).truncated == "disconnect"
