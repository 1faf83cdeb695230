"""Scrapy's HttpCompressionMiddleware, with undecodable bodies reported instead of crashing the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class UndecodableBody(IgnoreRequest):
    """The body could not be content-decoded; the raw bytes are archived all the same."""


class DecodingMiddleware(HttpCompressionMiddleware):
    """Decodes Content-Encoding for the spider; a corrupt or unsupported body becomes a clear failure.

    The capture middleware has stored the raw, still encoded exchange before
    this runs, so what a server sent is archived even when it cannot be decoded.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            raise
        except Exception as exc:  # zlib.error, brotli.error, EOFError, a foreign 'brotli' module's API...
            encoding = b", ".join(response.headers.getlist(b"Content-Encoding")).decode("latin-1")
            raise UndecodableBody(f"could not decode the body (Content-Encoding: {encoding}): {exc}") from exc
