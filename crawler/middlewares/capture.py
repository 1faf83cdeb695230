"""Records every HTTP exchange, raw, before decompression and redirects touch it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.capture import Capture
from crawler.extensions.warcsink import WarcSink

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.http.headers import Headers
    from typing_extensions import Self

    from archive.capture import RecordLocation

logger = logging.getLogger(__name__)

# Sent to the proxy, not to the server: never archived.
_UNRECORDED_REQUEST_HEADERS = frozenset({"proxy-authorization"})

HOPS_META_KEY = "archive_hops"
#: Request meta: the exchange is archived by another process (the posts' owner in `archive --processes N`).
NO_CAPTURE_META_KEY = "archive_no_capture"


def header_tuples(headers: Headers, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Every header value in order, repeats (Set-Cookie) kept, as latin-1 text."""
    result: list[tuple[str, str]] = []
    for name, values in headers.items():
        text_name = name.decode("latin-1")
        if text_name.lower() in skip:
            continue
        result.extend((text_name, value.decode("latin-1")) for value in values)
    return result


def capture_from_response(request: Request, response: Response) -> Capture:
    """The exchange as the downloader handed it over, before any middleware decoded it."""
    latency = request.meta.get("download_latency") or 0.0
    return Capture(
        url=response.url,
        method=request.method,
        status=response.status,
        protocol=response.protocol or "HTTP/1.1",
        headers=header_tuples(response.headers),
        body=response.body,
        request_headers=header_tuples(request.headers, _UNRECORDED_REQUEST_HEADERS),
        request_body=request.body,
        # WARC-Date is when the capture began (WARC 1.1, section 5.4).
        fetched_at=datetime.now(timezone.utc) - timedelta(seconds=latency),
        ip=str(response.ip_address) if response.ip_address else None,
        truncated="disconnect" if "dataloss" in response.flags else None,
    )


def hop_entry(response: Response, location: RecordLocation) -> dict[str, Any]:
    entry = {
        "url": response.url,
        "http_status": response.status,
        "timestamp": location.timestamp,
        "warc_file": location.warc_file,
        "offset": location.offset,
        "length": location.length,
        "record_id": location.record_id,
        "payload_digest": location.payload_digest,
    }
    if location.revisit_of is not None:
        entry["revisit_of"] = location.revisit_of
    return entry


class CaptureMiddleware:
    """Hands each response to the WARC sink and notes where it landed in ``meta``.

    It sits above HttpCompression (590), Redirect (600) and HttpCache (900), so
    it sees the still content-encoded body of every redirect hop and retry.
    Cached responses were archived when first fetched and are skipped, as are
    requests (and their redirects, which copy meta) marked ``NO_CAPTURE_META_KEY``.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.sink: WarcSink | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARCHIVE_CAPTURE_ENABLED", True):
            raise NotConfigured
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self) -> None:
        self.sink = self.crawler.get_extension(WarcSink)
        if self.sink is None:
            raise NotConfigured("CaptureMiddleware needs the WarcSink extension enabled")

    async def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags or self.sink is None or request.meta.get(NO_CAPTURE_META_KEY):
            return response
        location = await self.sink.write(capture_from_response(request, response))
        # Redirect and retry requests copy meta, so the list follows the chain.
        request.meta[HOPS_META_KEY] = [*request.meta.get(HOPS_META_KEY, []), hop_entry(response, location)]
        return response
