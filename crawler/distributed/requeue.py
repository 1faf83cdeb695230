"""A stopped worker hands the requests a stop took from it back to the shared queue, for the next worker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread

from crawler.extensions.interrupt import request_interrupted

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class RequeueInterrupted:
    """Pushes each request the Interrupt extension cut or dropped back into scrapy-redis's queue on close.

    A worker takes up to ``CONCURRENT_REQUESTS`` requests out of the shared queue;
    a stop cuts those in flight and drops those waiting for their host's turn, and
    journals nothing for them. Pushed back (past the duplicate filter, which
    admitted them once already), another worker or the next one fetches them, and
    ``finalize`` finds nothing lost. Requests that only this process can answer (a
    robots.txt fetch, whose callback is not the spider's) are left out: the next
    worker asks again. Redis is called from the thread pool.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._requests: dict[int, Request] = {}
        self._scheduler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("ARCHIVE_REDIS_URL"):
            raise NotConfigured("not a distributed worker")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.request_interrupted, signal=request_interrupted)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        assert self.crawler.engine is not None
        self._scheduler = self.crawler.engine.scheduler

    def request_interrupted(self, request: Request, **_: Any) -> None:
        spider = self.crawler.spider
        if getattr(request.callback, "__self__", None) is spider:
            self._requests[id(request)] = request

    async def spider_closed(self) -> None:
        if self._requests and self._scheduler is not None:
            await run_in_thread(self._push, list(self._requests.values()))

    def _push(self, requests: list[Request]) -> None:
        import redis

        pushed = 0
        for request in requests:
            try:
                self._scheduler.queue.push(request)
                pushed += 1
            except (redis.RedisError, ValueError, TypeError) as exc:
                logger.warning(
                    "Could not hand %(url)s back to the shared queue (%(error)s); `finalize` re-enqueues it",
                    {"url": request.url, "error": exc},
                )
        self.crawler.stats.set_value("archive/requeued", pushed)
        logger.info("Handed %(n)d interrupted request(s) back to the shared queue", {"n": pushed})
