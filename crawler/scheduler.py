"""Scrapy's scheduler with its requests waiting on disk: memory stays flat however many citations a run has."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.core.scheduler import Scheduler

from crawler.queuedir import QueueDirectory

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.dupefilters import BaseDupeFilter
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


class SpillingScheduler(Scheduler):
    """Keeps up to ``ARCHIVE_QUEUE_MEMORY`` pending requests in memory, the rest in Scrapy's disk queues.

    Disk queues for all requests cost 10-20 % of a 2,000-page run: Scrapy's
    per-slot priority queues open, close and remove a disk queue each time
    one drains and refills. Spilling only past a bound keeps small runs in
    memory and large ones flat (a few MB of requests, whatever the run's size).

    Scrapy has disk queues only with ``JOBDIR``, which also persists the dupe
    filter and the spider's state so that the same crawl can be resumed.
    citearchive resumes from its journal instead (crawler/resume.py), so the
    queue directory lives for one process: a fresh temporary directory
    (under ``ARCHIVE_QUEUE_DIR`` when set), removed when the spider closes,
    or by the next crawl if this process is killed (crawler/queuedir.py).
    A request that cannot be pickled waits in memory, as with ``JOBDIR``.
    Like Scrapy's own disk queues, pushes and pops are small unsynced file
    writes and reads on the reactor thread.
    """

    def __init__(self, dupefilter: BaseDupeFilter, jobdir: str | None = None, **kwargs: Any):
        # Scrapy's from_crawler passes JOBDIR (usually unset) as ``jobdir``; the queue
        # directory replaces it, so Scrapy's own disk queues live there.
        crawler: Crawler | None = kwargs.get("crawler")
        settings = crawler.settings if crawler is not None else None
        parent = (settings.get("ARCHIVE_QUEUE_DIR") or None) if settings is not None else None
        self.queue_dir = QueueDirectory(parent)
        self.memory_limit = settings.getint("ARCHIVE_QUEUE_MEMORY") if settings is not None else 0
        super().__init__(dupefilter, jobdir=str(self.queue_dir.path), **kwargs)

    def _dqpush(self, request: Request) -> bool:
        """To disk only once the memory queue holds ``memory_limit`` requests (False: to memory)."""
        if len(self.mqs) < self.memory_limit:
            return False
        return super()._dqpush(request)

    def close(self, reason: str) -> Deferred[None] | None:
        result: Any = super().close(reason)
        # What was still queued (an interrupted run) is fetched again by the resumed run.
        self.queue_dir.remove()
        return result  # type: ignore[no-any-return]
