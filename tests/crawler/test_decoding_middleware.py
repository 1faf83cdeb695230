"""The decoding middleware decodes like Scrapy's, without sniffing a charset from compressed bytes."""

from __future__ import annotations

import gzip
from unittest import mock

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.commands.archive import setting_overrides
from crawler.commands.common import UsageError
from crawler.middlewares.decoding import DecodingMiddleware, as_plain_response
from crawler.spiders.citations import CitationsSpider

PAGE = "<!doctype html><meta charset=utf-8><title>caf\u00e9</title><p>ok</p>".encode()


def _gzipped_response() -> HtmlResponse:
    request = Request("http://example.org/p.html")
    return HtmlResponse(
        "http://example.org/p.html",
        status=200,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
        body=gzip.compress(PAGE, mtime=0),
        request=request,
        protocol="HTTP/1.1",
    )


def test_plain_response_keeps_everything_but_the_class() -> None:
    response = _gzipped_response()
    plain = as_plain_response(response)
    assert type(plain) is Response
    for name in Response.attributes:
        assert getattr(plain, name) == getattr(response, name)


def test_decoded_response_is_html_with_its_declared_encoding() -> None:
    crawler = get_crawler(CitationsSpider)
    middleware = DecodingMiddleware.from_crawler(crawler)
    response = _gzipped_response()
    with mock.patch("scrapy.http.response.text.from_bytes") as sniff:
        decoded = middleware.process_response(response.request, response)  # type: ignore[arg-type]
        assert isinstance(decoded, HtmlResponse)
        assert decoded.body == PAGE
        assert decoded.encoding == "utf-8"
        assert "caf\u00e9" in decoded.text
    sniff.assert_not_called()  # the compressed bytes were never charset-sniffed
    assert b"Content-Encoding" not in decoded.headers


def test_setting_overrides() -> None:
    assert setting_overrides(["DOWNLOAD_DELAY=0", "LOG_FILE=a=b"]) == {"DOWNLOAD_DELAY": "0", "LOG_FILE": "a=b"}
    with pytest.raises(UsageError):
        setting_overrides(["DOWNLOAD_DELAY"])
