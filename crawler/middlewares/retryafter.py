"""Honours Retry-After on 429 and 503: the host's next requests wait, up to a cap, without blocking."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

# RFC 6585 §4 (429 Too Many Requests) and RFC 9110 §15.6.4 (503) name Retry-After.
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str, date: str | None = None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (RFC 9110 §10.2.3): delay-seconds or an
    HTTP-date, counted from the response's ``Date`` when it has one (no clock skew).
    None when unreadable; a date in the past is 0."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP-date is always GMT; "-0000" parses as naive
    base = now or datetime.now(timezone.utc)
    if date:
        try:
            sent = parsedate_to_datetime(date)
            base = sent if sent.tzinfo is not None else base
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, (when - base).total_seconds())


class RetryAfterMiddleware:
    """After a 429 or 503 carrying ``Retry-After``, holds the host's requests, the retry that
    RetryMiddleware makes among them, until that time: at most ``ARCHIVE_RETRY_AFTER_MAX``
    seconds later.

    Two places, neither blocking: on ``response_downloaded`` (sent before the downloader
    slot takes its next request, the hook AutoThrottle adjusts ``slot.delay`` from) the
    slot's ``lastseen`` is moved on, so requests already queued for the host wait; and
    ``process_request`` awaits a sleep for requests that reach the downloader later.
    """

    def __init__(self, crawler: Crawler, cap: float):
        self.crawler = crawler
        self.cap = cap
        self._not_before: dict[str, float] = {}  # downloader slot key → monotonic time

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        cap = crawler.settings.getfloat("ARCHIVE_RETRY_AFTER_MAX")
        if cap <= 0:
            raise NotConfigured
        middleware = cls(crawler, cap)
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def _downloader(self) -> Downloader:
        assert self.crawler.engine is not None
        return self.crawler.engine.downloader

    async def process_request(self, request: Request) -> None:
        key = self._downloader().get_slot_key(request)
        waited = False
        # Again after each sleep: another 429 may have moved the time on meanwhile.
        while (wait := self._not_before.get(key, 0.0) - monotonic()) > 0:
            if not waited:
                self.crawler.stats.inc_value("archive/retry_after/waits")
                waited = True
            await sleep(wait)

    def response_downloaded(self, response: Response, request: Request) -> None:
        if response.status not in RETRY_AFTER_STATUSES:
            return
        raw = response.headers.get(b"Retry-After")
        date = response.headers.get(b"Date")
        asked = retry_after_seconds(raw.decode("latin-1"), date.decode("latin-1") if date else None) if raw else None
        if asked is None:
            return
        wait = min(asked, self.cap)
        key = self._downloader().get_slot_key(request)
        until = max(self._not_before.get(key, 0.0), monotonic() + wait)
        self._not_before[key] = until
        slot = self._downloader().slots.get(key)
        if slot is not None:
            # Downloader._process_queue starts the next request once lastseen + delay has
            # passed; with no delay it does not look (see docs/reliability.md, H).
            slot.lastseen = max(slot.lastseen, until - slot.delay)
        self.crawler.stats.inc_value("archive/retry_after/honoured")
        if asked > self.cap:
            self.crawler.stats.inc_value("archive/retry_after/capped")
        logger.info(
            "%(host)s answered %(status)d with Retry-After %(asked).0f s: its requests wait %(wait).1f s",
            {"host": key, "status": response.status, "asked": asked, "wait": wait},
        )
