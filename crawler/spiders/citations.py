"""The spider: fetch each post, then each distinct URL it cites, and report one outcome per URL."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import TextResponse
from scrapy.utils.asyncio import run_in_thread

from archive.collection import Collection
from archive.requisitetally import post_parent
from crawler.citations import PostDocument, extract_post
from crawler.extensions.interrupt import was_interrupted
from crawler.feeds import Feed, FeedError, looks_like_feed, parse_feed, parse_since, select_entries
from crawler.fetchable import Unrequestable, make_request
from crawler.items import CaptureItem, CaptureOutcome, PostItem, RequisitesItem
from crawler.middlewares.capture import NO_CAPTURE_META_KEY
from crawler.outcomes import outcome_from_failure, outcome_from_response, stop_if_disk_full
from crawler.published import iso_date
from crawler.resume import ResumeState, load_resume_state
from crawler.rules import Rules, load_rules, rules_paths
from crawler.shards import Shard
from crawler.sources import Source, SourceError, load_local_feed, load_local_post, parse_source
from crawler.spiders.requisites import RequisitesMixin
from crawler.urllist import BadLine, read_list_text, url_list_entries

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from datetime import datetime

    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Error responses reach the callbacks (they are evidence of link rot), while
# 3xx stay with RedirectMiddleware, which handle_httpstatus_all would disable.
ERROR_STATUSES = list(range(400, 1000))


def post_id_for(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def run_rules(settings: Any) -> Rules:
    """The run's rules: the collection's ``rules.toml`` when there is one, then ``ARCHIVE_RULES`` (file paths)."""
    paths = rules_paths(settings.get("ARCHIVE_OUT"), settings.get("ARCHIVE_COLLECTION"), settings.getlist("ARCHIVE_RULES"))
    return load_rules(paths)


class CitationsSpider(RequisitesMixin, scrapy.Spider):
    """Yields a :class:`PostItem` per post and a :class:`CaptureItem` per distinct cited URL.

    Arguments (settings ``ARCHIVE_SOURCES`` etc. by default, or spider
    arguments, e.g. from scrapyd): ``sources`` (list, or a whitespace-separated
    string), ``base_url`` and ``include_internal``.
    """

    name = "citations"

    # Spider arguments that are settings (scrapyd: schedule.json?out=...&collection=...).
    # ARCHIVE_ALLOW_PRIVATE is not one: the DNS resolver is built before the spider exists
    # under `scrapy crawl`, so it must come as setting=ARCHIVE_ALLOW_PRIVATE=True.
    SETTING_ARGUMENTS = {"out": "ARCHIVE_OUT", "collection": "ARCHIVE_COLLECTION"}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        # The crawler applies (freezes) its settings after creating the spider, so
        # arguments can still become settings here, before any component reads them.
        for argument, setting in cls.SETTING_ARGUMENTS.items():
            if argument in kwargs:
                crawler.settings.set(setting, kwargs.pop(argument), priority="spider")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.rules = run_rules(crawler.settings)
        return spider

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
        self.rules = Rules()  # corrections by hand (ARCHIVE_RULES, the collection's rules.toml), from from_crawler

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

    # --- multi-process mode (crawler/shards.py): a citation is requested by the process owning its shard --------

    @functools.cached_property
    def shard(self) -> Shard | None:
        """This process's shard of the run (``ARCHIVE_SHARD``), or None: every citation is its own."""
        return Shard.from_settings(self.settings)

    def _post_meta(self, source: str) -> dict[str, Any]:
        """The meta of a request for a post page or feed; only the posts' owner archives them."""
        meta: dict[str, Any] = {"handle_httpstatus_list": ERROR_STATUSES, "archive_source": source}
        if self.shard is not None and not self.shard.owns_posts:
            meta[NO_CAPTURE_META_KEY] = True  # read here for its citations, archived by shard 0
        return meta

    @property
    def archives_posts(self) -> bool:
        """Whether this process archives the post pages (and so their requisites)."""
        return self.shard is None or self.shard.owns_posts

    def _owns(self, url: str, key: str) -> bool:
        shard = self.shard
        return shard is None or shard.owns(url, key)

    async def start(self) -> AsyncIterator[Any]:
        if self.shard is not None and not self.shard.owns_posts:
            # Every crawl process reads the posts; the one owning them (shard 0) warns of what they lack.
            logging.getLogger("crawler.citations").disabled = True
        resumed = await self._resume_state()
        for raw in self.sources:
            try:
                source = parse_source(raw)
            except SourceError as exc:
                logger.error("Skipping source: %(error)s", {"error": exc})
                continue
            if source.kind == "url" and post_id_for(raw) in resumed.posts:
                for output in self._resumed_post(resumed.posts[post_id_for(raw)], resumed):
                    yield output
                continue
            if source.kind == "url":
                yield self._post_output(source.location, raw)
                continue
            # Local files are read in a thread: nothing blocking on the reactor.
            loaded = await run_in_thread(self._read_local, source)
            for output in self._local_outputs(raw, loaded):
                yield output

    def _read_local(self, source: Source) -> PostDocument | Feed | list[str | BadLine] | None:
        """A local post, feed or URL list, read and parsed (blocking), or None when unreadable."""
        try:
            if source.kind == "urllist":
                return url_list_entries(read_list_text(source.location), source.location)
            if source.kind == "feed":
                return load_local_feed(source)
            return load_local_post(
                source, base_url=self.base_url, include_internal=self.include_internal, rules=self.rules
            )
        except SourceError as exc:
            logger.error("Skipping source: %(error)s", {"error": exc})
            return None

    def _local_outputs(self, raw: str, loaded: PostDocument | Feed | list[str | BadLine] | None) -> Iterator[Any]:
        if isinstance(loaded, list):  # one bad line costs only itself
            for line in loaded:
                yield self._post_output(line, line) if isinstance(line, str) else self._bad_line_post(line)
        elif isinstance(loaded, PostDocument):
            yield self._post_item(raw, loaded, snapshot=None)
            yield from self._citation_requests(loaded)
        elif loaded is not None:
            yield from self.feed_posts(raw, loaded)

    async def _resume_state(self) -> ResumeState:
        """What an interrupted run already did: its URLs are not fetched again."""
        if not self.settings.getbool("ARCHIVE_RESUME"):
            return ResumeState()
        collection = Collection(Path(self.settings.get("ARCHIVE_OUT")), self.settings.get("ARCHIVE_COLLECTION"))
        state = await run_in_thread(load_resume_state, collection, self.settings.get("ARCHIVE_RUN_ID"))
        self._requested_keys |= state.done_keys
        return state

    def _resumed_post(self, entry: dict[str, Any], resumed: ResumeState | None = None) -> Iterator[Any]:
        """A post page archived before the interruption: request only its requisites and citations still to do."""
        if resumed is not None and self.archives_posts:
            parent = post_parent(entry["post_id"])
            yield from self.resumed_requisites(parent, resumed.missing_requisites.get(parent, []))
        for citation in entry["citations"]:
            if "capture" in citation:  # settled when the post was read (a malformed URL)
                continue
            if citation["key"] in self._requested_keys or not self._owns(citation["url"], citation["key"]):
                continue
            self._requested_keys.add(citation["key"])
            yield self._citation_output(citation["url"], citation["key"])

    def _post_item(self, raw: str, document: PostDocument, snapshot: Any) -> PostItem:
        citations = [c.journal_entry() for c in document.citations]
        extraction = document.extraction.to_dict() if document.extraction is not None else None
        return PostItem(
            post_id_for(raw), raw, document.url, document.title, snapshot, citations,
            extraction=extraction, published=document.published,
        )  # fmt: skip

    def _citation_requests(self, document: PostDocument) -> Iterator[scrapy.Request | CaptureItem]:
        """A request per citation URL not yet requested; a citation whose URL is malformed is
        already ``skipped`` in its post's entry."""
        for citation in document.citations:
            if citation.skip_reason is not None:
                continue
            if citation.key in self._requested_keys or not self._owns(citation.url, citation.key):
                continue
            self._requested_keys.add(citation.key)
            yield self._citation_output(citation.url, citation.key)

    @property
    def max_url_length(self) -> int:
        """Scrapy's ``URLLENGTH_LIMIT`` (0: none)."""
        return self.settings.getint("URLLENGTH_LIMIT")

    def _citation_output(self, url: str, key: str) -> scrapy.Request | CaptureItem:
        """The citation's request, or its ``skipped`` capture when none can be made."""
        try:
            return self._citation_request(url, key)
        except Unrequestable as exc:
            return CaptureItem(key, url, CaptureOutcome("skipped", reason=str(exc)))

    def _citation_request(self, url: str, key: str) -> scrapy.Request:
        return make_request(
            url,
            self.max_url_length,
            callback=self.parse_citation,
            errback=self.citation_failed,
            meta={"handle_httpstatus_list": ERROR_STATUSES, "archive_key": key, "archive_url": url},
            # De-duplication is by citation key, above; the fingerprint
            # filter would also drop the post's own URL if it were cited.
            dont_filter=True,
        )

    def _with_requisites(self, item: PostItem | CaptureItem, response: Response, parent: str) -> Iterator[Any]:
        """``item`` carrying the page's own requisites item (one trip through the item pipeline), then the requests."""
        outputs = list(self.requisite_requests(response, parent))
        if outputs and isinstance(outputs[0], RequisitesItem):
            item.requisites = outputs.pop(0)
        yield item
        yield from outputs

    def parse_post(self, response: Response) -> Iterator[Any]:
        raw = response.meta["archive_source"]
        outcome = outcome_from_response(response)
        if outcome.status != "archived":
            yield self._failed_post(raw, response.url, outcome)
            return
        if not isinstance(response, TextResponse):
            outcome.status = "failed"
            outcome.reason = f"the post is not an HTML document ({outcome.mime or 'unknown type'})"
            yield self._failed_post(raw, response.url, outcome)
            return
        if "archive_feed" not in response.meta and looks_like_feed(
            response.body, (response.headers.get("Content-Type") or b"").decode("latin-1")
        ):
            yield from self.parse_feed(response)
            return
        document = extract_post(response.text, response.url, include_internal=self.include_internal, rules=self.rules)
        if document.published is None and response.meta.get("archive_published"):
            document = dataclasses.replace(document, published=response.meta["archive_published"])
        item = self._post_item(raw, document, snapshot=outcome)
        item.feed = response.meta.get("archive_feed")
        if self.archives_posts:  # the page's requisites, as a cited page's
            yield from self._with_requisites(item, response, post_parent(item.post_id))
        else:
            yield item
        yield from self._citation_requests(document)

    def post_failed(self, failure: Failure) -> Iterator[PostItem]:
        if was_interrupted(failure):  # cut or dropped by a stop: journalled as not attempted when the run closes
            return
        stop_if_disk_full(failure)
        request = failure.request  # type: ignore[attr-defined]
        raw = request.meta["archive_source"]
        yield self._failed_post(raw, request.url, outcome_from_failure(failure))

    def _failed_post(self, raw: str, url: str, outcome: CaptureOutcome) -> PostItem:
        """A post (or feed) that could not be read: its entry, and one error line from the process owning the posts."""
        if self.shard is None or self.shard.owns_posts:
            logger.error("Cannot archive the post %(url)s: %(reason)s", {"url": url, "reason": outcome.reason})
        return PostItem(post_id_for(raw), raw, url, None, outcome, [])

    def parse_citation(self, response: Response) -> Iterator[Any]:
        key = response.meta["archive_key"]
        capture = CaptureItem(key, response.meta["archive_url"], outcome_from_response(response))
        yield from self._with_requisites(capture, response, key)

    def citation_failed(self, failure: Failure) -> Iterator[CaptureItem]:
        if was_interrupted(failure):  # cut or dropped by a stop: the manifest lists it as not attempted
            return
        stop_if_disk_full(failure)
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield CaptureItem(meta["archive_key"], meta["archive_url"], outcome_from_failure(failure))

    # --- feeds and URL lists: each entry or line is a post of its own ----------------

    @property
    def since(self) -> datetime | None:
        value = self.settings.get("ARCHIVE_SINCE") or ""
        return parse_since(value) if value else None

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """A fetched post source that is an RSS or Atom feed: fetch its entries as posts."""
        raw = response.meta["archive_source"]
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        try:
            feed = parse_feed(response.body, response.url, content_type)
        except FeedError as exc:
            outcome = outcome_from_response(response)
            outcome.status, outcome.reason = "failed", f"the feed cannot be read: {exc}"
            yield self._failed_post(raw, response.url, outcome)
            return
        yield from self.feed_posts(raw, feed)

    def feed_posts(self, feed_source: str, feed: Feed) -> Iterator[Any]:
        """Each entry's link is fetched as the post (so its page is archived too); an entry
        without a link but with full content is read from that content."""
        entries = select_entries(feed.entries, self.since)
        logger.info(
            "Feed %(feed)s: %(n)d of %(total)d entries",
            {"feed": feed_source, "n": len(entries), "total": len(feed.entries)},
        )
        for number, entry in enumerate(entries, start=1):
            if entry.link:
                yield self._post_output(entry.link, entry.link, feed=feed_source, published=iso_date(entry.published))
            elif entry.content:
                html = f"<article>{entry.content}</article>"
                document = extract_post(html, feed.link, include_internal=self.include_internal, rules=self.rules)
                if entry.title:
                    document = dataclasses.replace(document, title=entry.title)
                if document.published is None and entry.published is not None:
                    document = dataclasses.replace(document, published=iso_date(entry.published))
                item = self._post_item(f"{feed_source}#entry-{number}", document, snapshot=None)
                item.feed = feed_source
                yield item
                yield from self._citation_requests(document)

    def post_request(
        self, url: str, feed: str | None = None, source: str | None = None, published: str | None = None
    ) -> scrapy.Request:
        """The request for a post page (``source``: what the user gave, by default ``url``; ``published``:
        its feed entry's date); raises :class:`~crawler.fetchable.Unrequestable` when none can be made."""
        meta = self._post_meta(source or url)
        if feed is not None:
            meta["archive_feed"] = feed
        if published is not None:
            meta["archive_published"] = published
        return make_request(
            url, self.max_url_length, callback=self.parse_post, errback=self.post_failed, meta=meta, dont_filter=True
        )

    def _post_output(
        self, url: str, source: str, feed: str | None = None, published: str | None = None
    ) -> scrapy.Request | PostItem:
        """The post's request, or its post entry ``skipped`` with the reason: the other posts go on."""
        try:
            return self.post_request(url, feed=feed, source=source, published=published)
        except Unrequestable as exc:
            logger.warning("Skipping post %(url)r: %(reason)s", {"url": url[:200], "reason": exc})
            item = PostItem(post_id_for(source), source, url, None, CaptureOutcome("skipped", reason=str(exc)), [])
            item.feed = feed
            return item

    def _bad_line_post(self, line: BadLine) -> PostItem:
        """A URL list's line that is no post URL, listed as a post ``skipped`` with why."""
        logger.warning("Skipping %(error)s", {"error": line.error})
        outcome = CaptureOutcome("skipped", reason=str(line.error))
        return PostItem(post_id_for(line.text), line.text, None, None, outcome, [])
