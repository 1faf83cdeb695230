"""Lets the engine see at once that a crawl whose last work was an item is over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


#: Seconds between an item's signal and the engine's look: the scraper counts the item until the
#: signal's handlers have run, and a look at once would still see it.
DELAY = 0.01


class IdleCheck:
    """Asks the engine to look for an idle spider when an item leaves the pipelines.

    Scrapy 2.19's engine looks after each response, after each output of the
    spider's ``start()``, and otherwise every 5 seconds (its slot heartbeat). When
    ``start()`` ends with items and no request left (a post whose citations an
    earlier attempt archived, a list of posts already done), the items are still in
    the pipelines at its last look, and the run idled until the heartbeat: 5 s
    added to every such run. Scrapy has no public call for this; the engine slot's
    ``nextcall`` is what its own callbacks schedule, and is coalesced (one call
    however many items end together). It is only asked once ``start()`` is done
    and nothing is being downloaded, which is never during a busy crawl, and a
    moment later (:data:`DELAY`): the signal is sent while the scraper still
    counts the item. Should that moment not suffice, the heartbeat still closes the run.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(extension.item_done, signal=signal)
        return extension

    def item_done(self, **_: Any) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if engine is None or slot is None or getattr(engine, "_start", None) is not None or engine.downloader.active:
            return
        slot.nextcall.schedule(DELAY)
