"""The spider: fetch each post, then each distinct URL it cites, and report one outcome per URL."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import TextResponse

from crawler.citations import PostDocument, extract_post
from crawler.items import CaptureItem, PostItem
from crawler.outcomes import outcome_from_failure, outcome_from_response
from crawler.sources import Source, SourceError, load_local_post, parse_source

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Error responses reach the callbacks (they are evidence of link rot), while
# 3xx stay with RedirectMiddleware, which handle_httpstatus_all would disable.
ERROR_STATUSES = list(range(400, 600))


def post_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


class CitationsSpider(scrapy.Spider):
    """Yields a :class:`PostItem` per post and a :class:`CaptureItem` per distinct cited URL.

    Arguments (settings ``ARCHIVE_SOURCES`` etc. by default, or spider
    arguments, e.g. from scrapyd): ``sources`` (list, or a whitespace-separated
    string), ``base_url`` and ``include_internal``.
    """

    name = "citations"

    def __init__(
        self,
        sources: list[str] | str | None = None,
        base_url: str | None = None,
        include_internal: bool | str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._sources_arg = sources
        self._base_url_arg = base_url
        self._include_internal_arg = include_internal
        self._requested_keys: set[str] = set()

    @property
    def sources(self) -> list[str]:
        value = self._sources_arg
        if value is None:
            return list(self.settings.getlist("ARCHIVE_SOURCES"))
        return value.split() if isinstance(value, str) else list(value)

    @property
    def base_url(self) -> str | None:
        return self._base_url_arg or self.settings.get("ARCHIVE_BASE_URL") or None

    @property
    def include_internal(self) -> bool:
        value = self._include_internal_arg
        if value is None:
            return self.settings.getbool("ARCHIVE_INCLUDE_INTERNAL")
        return value if isinstance(value, bool) else value.lower() in ("1", "true", "yes")

    async def start(self) -> AsyncIterator[Any]:
        for raw in self.sources:
            try:
                source = parse_source(raw)
            except SourceError as exc:
                logger.error("Skipping source: %(error)s", {"error": exc})
                continue
            if source.kind == "url":
                yield scrapy.Request(
                    source.location,
                    callback=self.parse_post,
                    errback=self.post_failed,
                    meta={"handle_httpstatus_list": ERROR_STATUSES, "archive_source": raw},
                    dont_filter=True,
                )
                continue
            for output in self._local_post(raw, source):
                yield output

    def _local_post(self, raw: str, source: Source) -> Iterator[Any]:
        try:
            document = load_local_post(source, base_url=self.base_url, include_internal=self.include_internal)
        except SourceError as exc:
            logger.error("Skipping source: %(error)s", {"error": exc})
            return
        yield self._post_item(raw, document, snapshot=None)
        yield from self._citation_requests(document)

    def _post_item(self, raw: str, document: PostDocument, snapshot: Any) -> PostItem:
        citations = [
            {"n": c.n, "url": c.url, "key": c.key, "anchor_text": c.anchor_text, "context": c.context}
            for c in document.citations
        ]
        return PostItem(post_id_for(raw), raw, document.url, document.title, snapshot, citations)

    def _citation_requests(self, document: PostDocument) -> Iterator[scrapy.Request]:
        for citation in document.citations:
            if citation.key in self._requested_keys:
                continue
            self._requested_keys.add(citation.key)
            yield scrapy.Request(
                citation.url,
                callback=self.parse_citation,
                errback=self.citation_failed,
                meta={
                    "handle_httpstatus_list": ERROR_STATUSES,
                    "archive_key": citation.key,
                    "archive_url": citation.url,
                },
                # De-duplication is by citation key, above; the fingerprint
                # filter would also drop the post's own URL if it were cited.
                dont_filter=True,
            )

    def parse_post(self, response: Response) -> Iterator[Any]:
        raw = response.meta["archive_source"]
        outcome = outcome_from_response(response)
        if outcome.status != "archived":
            yield PostItem(post_id_for(raw), raw, response.url, None, outcome, [])
            return
        if not isinstance(response, TextResponse):
            outcome.status = "failed"
            outcome.reason = f"the post is not an HTML document ({outcome.mime or 'unknown type'})"
            yield PostItem(post_id_for(raw), raw, response.url, None, outcome, [])
            return
        document = extract_post(response.text, response.url, include_internal=self.include_internal)
        yield self._post_item(raw, document, snapshot=outcome)
        yield from self._citation_requests(document)

    def post_failed(self, failure: Failure) -> Iterator[PostItem]:
        request = failure.request  # type: ignore[attr-defined]
        raw = request.meta["archive_source"]
        yield PostItem(post_id_for(raw), raw, request.url, None, outcome_from_failure(failure), [])

    def parse_citation(self, response: Response) -> Iterator[CaptureItem]:
        yield CaptureItem(response.meta["archive_key"], response.meta["archive_url"], outcome_from_response(response))

    def citation_failed(self, failure: Failure) -> Iterator[CaptureItem]:
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield CaptureItem(meta["archive_key"], meta["archive_url"], outcome_from_failure(failure))
