"""Stops a crawl within moments of SIGINT or SIGTERM: requests in flight are cut, queued ones dropped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["Interrupt", "RequestInterrupted", "request_interrupted", "run_interrupted"]

#: Sent once, with ``reason`` (the signal's name), when the crawl is interrupted: download handlers cut their transfers.
run_interrupted = object()
#: Sent with ``request`` for each request a stop cut or dropped (a distributed worker hands them back to the queue).
request_interrupted = object()

#: Seconds between two looks at an engine that is still starting when the stop comes.
_START_POLL = 0.05


class RequestInterrupted(IgnoreRequest):
    """The run was interrupted before this request got its answer: not attempted, to be fetched by the next run.

    An IgnoreRequest, so Scrapy drops it quietly where no errback takes it; the spider's
    errbacks journal nothing for it (:func:`was_interrupted`).
    """


def was_interrupted(failure: Failure) -> bool:
    return isinstance(failure.value, RequestInterrupted)


class Interrupt:
    """Closes the spider quickly when :meth:`interrupt` is called (the CLI calls it on SIGINT or SIGTERM).

    Scrapy's own graceful stop (``CrawlerProcess._signal_shutdown`` → ``engine.stop_async``
    → ``close_spider_async``) waits until every request the engine has handed to the
    downloader is done: with one connection per host and ``--delay`` between requests, up to
    ``CONCURRENT_REQUESTS`` of them queue in a host's downloader slot, and a stop drained
    them one by one (15 s in the report of issue 17). Here a stop instead

    - fails each request waiting in a downloader slot with :class:`RequestInterrupted`, and
      each one that reaches a slot afterwards (a redirect, a robots.txt fetch, a request
      whose middlewares were still running);
    - sends :data:`run_interrupted`: the download handler (crawler/handlers/cuttable.py)
      cuts its transfers, which fail the same way, and refuses new ones;
    - then stops the crawler as Scrapy would, so the spider closes with reason ``shutdown``,
      the scheduler drops what it holds and the manifest is compiled from the journal.

    Nothing is journalled for those requests, so the manifest lists their citations as
    not attempted and the next run over the same sources fetches them. A response that
    arrived whole before the stop is still archived.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.request_reached_downloader, signal=signals.request_reached_downloader)
        return extension

    def interrupt(self, reason: str) -> None:
        """Stop the crawl now (on the reactor thread); ``reason`` names the signal. Idempotent."""
        if self.reason is not None:
            return
        self.reason = reason
        self.crawler.stats.set_value("archive/interrupted", reason)
        closing = _closing(self.crawler)
        if closing:  # e.g. it finished: the close under way writes the manifest, and then the run ends
            logger.warning(
                "Received %(reason)s as the crawl ends: its manifest and index are written first "
                "(send it again to stop at once)",
                {"reason": reason},
            )
        else:
            logger.warning(
                "Received %(reason)s: stopping now; requests in flight are cut and queued ones dropped, their "
                "citations listed as not attempted (send it again to stop at once)",
                {"reason": reason},
            )
        self.crawler.signals.send_catch_log(signal=run_interrupted, reason=reason)
        self._drop_queued()
        if not closing:
            deferred_from_coro(self._stop()).addErrback(self._stop_failed)

    async def _stop(self) -> None:
        crawler = self.crawler
        engine = getattr(crawler, "engine", None)
        # A stop while the spider is still opening waits for the engine: Crawler.stop_async
        # does nothing to an engine not yet running, which would then crawl on.
        while crawler.crawling and (engine is None or not engine.running):
            await _sleep(_START_POLL)
            engine = getattr(crawler, "engine", None)
        # Not when the spider is closing already (it finished; its manifest is being written):
        # stopping the engine would end the crawl, and the reactor, before that close is done.
        if crawler.crawling and not _closing(crawler):
            await crawler.stop_async()

    def _stop_failed(self, failure: Failure) -> None:
        logger.error("Could not stop the crawl: %(error)s", {"error": failure.getErrorMessage()})

    def request_reached_downloader(self, request: Request, **_: Any) -> None:
        if self.reason is not None:
            from scrapy.utils.asyncio import call_later

            # Sent before the downloader queues it: drop it (and any other) just after.
            call_later(0, self._drop_queued)

    def _drop_queued(self) -> None:
        engine = getattr(self.crawler, "engine", None)
        if engine is None:
            return
        for slot in list(engine.downloader.slots.values()):
            slot.close()  # its timer for the next request
            while slot.queue:
                request, waiting = slot.queue.popleft()
                self.crawler.stats.inc_value("archive/interrupted/dropped")
                self.crawler.signals.send_catch_log(signal=request_interrupted, request=request)
                error = RequestInterrupted(f"the run was interrupted ({self.reason})")
                waiting.errback(Failure(error))  # type: ignore[no-untyped-call]  # Twisted's constructor is untyped


def _closing(crawler: Crawler) -> bool:
    """Whether the engine is closing the spider (as Scrapy's own close_spider_async tells, by its slot)."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    return slot is not None and slot.closing is not None


async def _sleep(seconds: float) -> None:
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
