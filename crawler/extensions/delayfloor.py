"""Keeps every downloader slot's delay above zero, so one connection per host holds with --delay 0."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class DelayFloor:
    """Raises a slot's delay to ``ARCHIVE_MIN_DELAY`` when a request reaches it.

    Scrapy 2.19's ``Downloader._process_queue`` pops every queued request of a slot at
    once when the delay is 0: each becomes a coroutine and none is "transferring" yet,
    so ``CONCURRENT_REQUESTS_PER_DOMAIN`` is not enforced. With any delay above 0 it
    takes one and waits. ``request_reached_downloader`` is sent after the slot exists and
    before its queue is processed; AutoThrottle adjusts ``slot.delay`` the same way.
    """

    def __init__(self, crawler: Crawler, floor: float):
        self.crawler = crawler
        self.floor = floor

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        floor = crawler.settings.getfloat("ARCHIVE_MIN_DELAY")
        if floor <= 0:
            raise NotConfigured
        extension = cls(crawler, floor)
        crawler.signals.connect(extension.request_reached_downloader, signal=signals.request_reached_downloader)
        return extension

    def request_reached_downloader(self, request: Request) -> None:
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None and slot.delay < self.floor:
            slot.delay = self.floor
