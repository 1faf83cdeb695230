"""A worker's heartbeat in Redis: `finalize` only reconciles once no worker is alive."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from typing_extensions import Self

    from crawler.distributed.state import Redis

logger = logging.getLogger(__name__)


def ttl_for(heartbeat: float) -> float:
    """How long a missed heartbeat takes to declare a worker dead."""
    return 3 * heartbeat


class WorkerPresence:
    """Refreshes the worker's ``alive`` key every ``ARCHIVE_WORKER_HEARTBEAT`` seconds; deletes it on close.

    A killed worker stops refreshing, so its key expires after three beats.
    Redis is called from the thread pool, never on the reactor thread.
    """

    def __init__(self, crawler: Crawler, url: str, alive_key: str, heartbeat: float):
        self.crawler = crawler
        self.url = url
        self.alive_key = alive_key
        self.heartbeat = heartbeat
        self._client: Redis | None = None
        self._loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url = settings.get("ARCHIVE_REDIS_URL")
        worker_id = settings.get("ARCHIVE_WORKER_ID")
        run_id = settings.get("ARCHIVE_DISTRIBUTED_RUN_ID")
        if not (url and worker_id and run_id):
            raise NotConfigured("not a distributed worker")
        from crawler.distributed.keys import RunKeys

        presence = cls(crawler, url, RunKeys(run_id).alive(worker_id), settings.getfloat("ARCHIVE_WORKER_HEARTBEAT"))
        crawler.signals.connect(presence.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(presence.spider_closed, signal=signals.spider_closed)
        return presence

    async def spider_opened(self) -> None:
        await run_in_thread(self._beat)
        self._loop = LoopingCall(self._tick)
        self._loop.start(self.heartbeat, now=False).addErrback(self._loop_failed)

    def _tick(self) -> Deferred[None]:
        return deferToThread(self._beat)

    def _loop_failed(self, failure: object) -> None:
        logger.error("The worker heartbeat stopped: %(failure)s", {"failure": failure})

    def _beat(self) -> None:
        import redis

        from crawler.commands.common import UsageError
        from crawler.distributed.state import connect

        try:
            if self._client is None:
                self._client = connect(self.url)
            # SET, not PEXPIRE: a beat that comes late re-creates an expired key.
            self._client.set(self.alive_key, "alive", px=int(ttl_for(self.heartbeat) * 1000))
            self.crawler.stats.inc_value("archive/heartbeats")
        except (UsageError, redis.RedisError) as exc:  # logged; the next beat retries
            self._client = None
            logger.warning("Missed a heartbeat to Redis: %(error)s", {"error": exc})

    async def spider_closed(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        await run_in_thread(self._leave)

    def _leave(self) -> None:
        import redis

        try:
            if self._client is not None:
                self._client.delete(self.alive_key)
        except redis.RedisError as exc:
            logger.warning("Could not sign off in Redis (the key expires by itself): %(error)s", {"error": exc})
