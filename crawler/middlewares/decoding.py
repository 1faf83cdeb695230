"""Scrapy's HttpCompressionMiddleware, with undecodable bodies reported instead of crashing the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

if TYPE_CHECKING:
    from scrapy import Request


class UndecodableBody(IgnoreRequest):
    """The body could not be content-decoded; the raw bytes are archived all the same."""


def as_plain_response(response: TextResponse) -> Response:
    """The same still-encoded response as a plain :class:`Response`, which has no text encoding.

    Scrapy's ``Response.replace`` evaluates every attribute of the old response, so replacing
    a compressed TextResponse sniffs the *compressed* bytes for a charset (charset_normalizer
    over gzip data: the single largest cost of a loopback crawl). The decoded response is
    typed, and its encoding found, from the decoded body as before.
    """
    return Response(**{name: getattr(response, name) for name in Response.attributes})


class DecodingMiddleware(HttpCompressionMiddleware):
    """Decodes Content-Encoding for the spider; a corrupt or unsupported body becomes a clear failure.

    The capture middleware has stored the raw, still encoded exchange before
    this runs, so what a server sent is archived even when it cannot be decoded.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if isinstance(response, TextResponse) and b"Content-Encoding" in response.headers:
            response = as_plain_response(response)
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            raise
        except Exception as exc:  # zlib.error, brotli.error, EOFError, a foreign 'brotli' module's API...
            encoding = b", ".join(response.headers.getlist(b"Content-Encoding")).decode("latin-1")
            raise UndecodableBody(f"could not decode the body (Content-Encoding: {encoding}): {exc}") from exc
