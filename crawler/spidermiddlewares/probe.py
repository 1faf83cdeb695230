"""Soft-404 evidence: fetch a random sibling of each page that answered 200, once per directory."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import NotConfigured

from crawler.extensions.interrupt import was_interrupted
from crawler.items import CaptureItem
from crawler.outcomes import outcome_from_failure, outcome_from_response

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

PROBE_META_KEY = "archive_probe_for"


def probe_url(url: str) -> tuple[str, str]:
    """(directory of ``url``, a random name in it that should not exist)."""
    parts = urlsplit(url)
    directory = parts.path.rsplit("/", 1)[0] + "/"
    name = f"citearchive-probe-{secrets.token_hex(8)}.html"
    return (
        urlunsplit((parts.scheme, parts.netloc, directory, "", "")),
        urlunsplit((parts.scheme, parts.netloc, directory + name, "", "")),
    )


@dataclass(slots=True)
class ProbeItem:
    """What a made-up sibling URL answered: a 200 there means the site hides its 404s."""

    directory: str
    url: str
    capture: dict[str, Any]

    def to_journal(self) -> dict[str, Any]:
        return {"kind": "probe", "directory": self.directory, "url": self.url, "capture": self.capture}


class SoftNotFoundProbe:
    """After a citation answers 200 with HTML, requests a random path in the same directory.

    The probe is archived like any exchange and journalled as a ``probe``
    entry; :mod:`archive.rot` compares the two to tell a soft-404 (the site
    answers 200 with the same "not found" page for anything) from a real page.
    Sibling paths rather than ``/``-level ones: sites route per section.
    """

    def __init__(self) -> None:
        self._probed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARCHIVE_SOFT404_PROBE"):
            raise NotConfigured
        return cls()

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for output in result:
            yield output
            if isinstance(output, CaptureItem):
                request = self._probe_for(output)
                if request is not None:
                    yield request

    def _probe_for(self, item: CaptureItem) -> scrapy.Request | None:
        outcome = item.outcome
        if outcome.status != "archived" or outcome.http_status != 200 or not outcome.final_url:
            return None
        if outcome.mime not in ("text/html", "application/xhtml+xml"):
            return None
        directory, url = probe_url(outcome.final_url)
        if directory in self._probed:
            return None
        self._probed.add(directory)
        return scrapy.Request(
            url,
            callback=self.probed,
            errback=self.probe_failed,
            meta={"handle_httpstatus_list": list(range(400, 600)), PROBE_META_KEY: directory},
            dont_filter=True,
            priority=-1,
        )

    def probed(self, response: Response) -> Iterator[ProbeItem]:
        outcome = outcome_from_response(response)
        yield ProbeItem(response.meta[PROBE_META_KEY], response.request.url if response.request else response.url, outcome.to_dict())

    def probe_failed(self, failure: Failure) -> Iterator[ProbeItem]:
        if was_interrupted(failure):  # no evidence either way
            return
        request = failure.request  # type: ignore[attr-defined]
        yield ProbeItem(request.meta[PROBE_META_KEY], request.url, outcome_from_failure(failure).to_dict())
