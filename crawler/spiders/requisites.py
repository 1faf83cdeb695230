"""The spider's page requisites: each URL fetched once per run, credited to every citation needing it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import HtmlResponse, TextResponse

from crawler.extensions.interrupt import was_interrupted
from crawler.fetchable import Unrequestable, make_request
from crawler.items import CaptureOutcome, RequisitesItem
from crawler.outcomes import outcome_from_failure, outcome_from_response
from crawler.requisites import Requisite, Role, css_requisites, html_requisites

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# What a browser sends for each kind of subresource (Chromium's values), so servers that
# negotiate answer the archiver as they answer a reader.
_IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
ACCEPT: dict[Role, str] = {
    "image": _IMAGE_ACCEPT,
    "icon": _IMAGE_ACCEPT,
    "stylesheet": "text/css,*/*;q=0.1",
    "font": "*/*",
    "script": "*/*",
    "frame": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
}
META_URL = "archive_requisite_url"
META_ROLE = "archive_requisite_role"
META_LEVEL = "archive_requisite_level"
#: Meta key naming the first page a requisite request was made for (the ledger knows them all;
#: a distributed worker that did not make the request credits this one).
META_PARENT = "archive_requisite_of"


@dataclass(slots=True)
class RequisiteLedger:
    """Per run: which pages (citation keys, post keys) need each requisite URL, its outcome and what it references."""

    # URL -> the parent keys needing it, in order (a dict as an ordered set: a shared
    # stylesheet has thousands, and a list's membership test made the run quadratic).
    parents: dict[str, dict[str, None]] = field(default_factory=dict)
    outcomes: dict[str, CaptureOutcome] = field(default_factory=dict)
    children: dict[str, tuple[list[Requisite], int]] = field(default_factory=dict)


class RequisitesMixin:
    """Adds page requisites to a spider: call :meth:`requisite_requests` from a page's callback.

    A page is a citation (its key is the parent) or a post (``post:ID``). A requisite URL
    is requested once per run (the ledger, not the dupe filter, decides); a page that
    needs a URL already requested is credited with its outcome when it lands, and with what that stylesheet or frame referenced in turn. Stylesheets are
    parsed for ``@import``, ``@font-face`` and ``url()``; frame documents for their own
    requisites but not their frames, so one level of frames is archived. Nesting stops at
    ``ARCHIVE_REQUISITES_DEPTH``.
    """

    settings: BaseSettings
    crawler: Crawler
    _requisite_ledger: RequisiteLedger | None = None

    @property
    def requisite_ledger(self) -> RequisiteLedger:
        if self._requisite_ledger is None:
            self._requisite_ledger = RequisiteLedger()
        return self._requisite_ledger

    def requisite_requests(self, response: Response, parent: str) -> Iterator[Any]:
        """Items and requests for the requisites of the page ``response``, cited as ``parent``."""
        if not self.settings.getbool("ARCHIVE_REQUISITES") or response.status >= 400:
            return
        if not isinstance(response, HtmlResponse):
            return
        found = html_requisites(response.text, response.url, frames=True)
        yield from self._need(parent, found, level=1)

    def resumed_requisites(self, parent: str, missing: list[tuple[str, str]]) -> Iterator[Any]:
        """Items and requests for what an interrupted run found for ``parent`` (URL, role) but never fetched.

        Their depth is counted afresh from the page (the journal does not keep it).
        """
        if self.settings.getbool("ARCHIVE_REQUISITES"):
            found = [Requisite(url, role) for url, role in missing if role in ACCEPT]
            yield from self._need(parent, found, level=1)

    def parse_requisite(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        role: Role = meta[META_ROLE]
        level: int = meta[META_LEVEL]
        outcome = outcome_from_response(response)
        children = self._references(response, role) if outcome.status == "archived" else []
        yield from self._settle(meta[META_URL], role, outcome, children, level + 1, meta.get(META_PARENT))

    def requisite_failed(self, failure: Failure) -> Iterator[Any]:
        if was_interrupted(failure):  # not attempted: the manifest says so, the next run fetches it
            return
        meta = failure.request.meta  # type: ignore[attr-defined]
        yield from self._settle(meta[META_URL], meta[META_ROLE], outcome_from_failure(failure), [], 0, meta.get(META_PARENT))

    def _references(self, response: Response, role: Role) -> list[Requisite]:
        """What a fetched stylesheet or frame document needs in turn."""
        if role == "frame" and isinstance(response, HtmlResponse):
            return html_requisites(response.text, response.url, frames=False)
        if role == "stylesheet" and isinstance(response, TextResponse):
            return css_requisites(response.text, response.url)
        return []

    def _need(self, parent: str, found: list[Requisite], level: int) -> Iterator[Any]:
        """One item crediting ``parent`` with what is known of ``found`` (and their own requisites), then new requests."""
        item = RequisitesItem(parent)
        requests = list(self._gather(item, found, level))
        if item.found or item.outcomes:
            yield item
        yield from requests

    def _gather(self, item: RequisitesItem, found: list[Requisite], level: int) -> Iterator[scrapy.Request]:
        """Note ``found`` in ``item``, credit outcomes already known, and yield requests for URLs never requested."""
        if not found:
            return
        if level > self.settings.getint("ARCHIVE_REQUISITES_DEPTH"):
            self.crawler.stats.inc_value("archive/requisites/too_deep", len(found))
            logger.debug("Not following %(n)d requisites nested too deep", {"n": len(found)})
            return
        ledger = self.requisite_ledger
        parent = item.parent
        limit = self.settings.getint("ARCHIVE_REQUISITES_MAX_PER_PAGE")
        item.found.extend(requisite.url for requisite in found)
        item.roles.extend(requisite.role for requisite in found)
        for index, requisite in enumerate(found):
            url = requisite.url
            if index >= limit:
                reason = f"not fetched: the document needs more than {limit} requisites (ARCHIVE_REQUISITES_MAX_PER_PAGE)"
                item.outcomes.append((url, requisite.role, CaptureOutcome("skipped", final_url=url, reason=reason)))
                continue
            parents = ledger.parents.get(url)
            if parents is None:
                ledger.parents[url] = {parent: None}
                try:
                    yield self._request(requisite, parent, level)
                except Unrequestable as exc:  # a malformed URL: settled here, for every page needing it
                    skipped = CaptureOutcome("skipped", final_url=url, reason=str(exc))
                    ledger.outcomes[url], ledger.children[url] = skipped, ([], level + 1)
                    self.crawler.stats.inc_value("archive/requisites/skipped")
                    item.outcomes.append((url, requisite.role, skipped))
            elif parent not in parents:
                parents[parent] = None
                outcome = ledger.outcomes.get(url)
                if outcome is not None:  # else in flight: credited when it lands
                    item.outcomes.append((url, requisite.role, outcome))
                    children, child_level = ledger.children.get(url, ([], level + 1))
                    yield from self._gather(item, children, child_level)

    def _request(self, requisite: Requisite, parent: str, level: int) -> scrapy.Request:
        request = make_request(
            requisite.url,
            self.settings.getint("URLLENGTH_LIMIT"),
            callback=self.parse_requisite,
            errback=self.requisite_failed,
            headers={"Accept": ACCEPT[requisite.role]},
            meta={
                # Error responses are stored and reported, as for citations.
                "handle_httpstatus_list": list(range(400, 1000)),
                META_URL: requisite.url,
                META_ROLE: requisite.role,
                META_LEVEL: level,
                META_PARENT: parent,
            },
            # The ledger de-duplicates per run; the fingerprint filter would also drop a
            # requisite whose URL is a citation or a post.
            dont_filter=True,
        )
        self.crawler.stats.inc_value("archive/requisites/requested")
        return request

    def _settle(
        self, url: str, role: Role, outcome: CaptureOutcome, children: list[Requisite], level: int, first: str | None
    ) -> Iterator[Any]:
        ledger = self.requisite_ledger
        ledger.outcomes[url] = outcome
        ledger.children[url] = (children, level)
        self.crawler.stats.inc_value(f"archive/requisites/{outcome.status}")
        if url not in ledger.parents and first is not None:
            # Requested by another worker through the shared queue (distributed mode): its
            # first parent is credited here, the others by the manifest's tally (by URL).
            ledger.parents[url] = {first: None}
        for number, parent in enumerate(list(ledger.parents.get(url, {}))):
            # The first citation's line journals the whole capture, the others its status.
            item = RequisitesItem(parent, outcomes=[(url, role, outcome)], detailed={url} if number == 0 else set())
            requests = list(self._gather(item, children, level))
            yield item
            yield from requests
