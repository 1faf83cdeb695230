"""The citations spider fed from Redis: tasks in, requests through scrapy-redis's shared scheduler."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy_redis.spiders import RedisMixin

from crawler.distributed import tasks
from crawler.distributed.dupefilter import CITATION_META_KEY
from crawler.spiders.citations import ERROR_STATUSES, CitationsSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class DistributedCitationsSpider(RedisMixin, CitationsSpider):  # type: ignore[misc]
    """Reads tasks from the run's task list (``REDIS_START_URLS_KEY``) whenever it idles.

    A post task fetches and archives the post, then schedules its citations;
    a citation task schedules one citation. Every request goes through the
    shared scheduler, so any worker may download it, and the shared duplicate
    filter lets each citation through once per run (``force`` tasks, which
    ``finalize`` re-enqueues, pass it).
    """

    name = "citations-distributed"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider: Self = super().from_crawler(crawler, *args, **kwargs)
        # scrapy-redis sets this at import time; count idleness from now.
        spider.spider_idle_start_time = int(time.time())
        # scrapy-redis reads CONCURRENT_REQUESTS tasks per idle signal, and the
        # engine signals idleness every 5 s; moving a large batch at once into
        # the shared queue keeps every worker busy instead.
        spider.redis_batch_size = crawler.settings.getint("ARCHIVE_TASK_BATCH")
        spider.setup_redis(crawler)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for request in self.next_requests():
            yield request

    def make_request_from_data(self, data: bytes) -> list[scrapy.Request]:
        try:
            task = tasks.decode(data)
        except ValueError as exc:
            logger.error("Skipping a malformed task %(data)r: %(error)s", {"data": data[:200], "error": exc})
            return []
        force = bool(task.get("force"))
        if task["kind"] == "post":
            return [
                scrapy.Request(
                    task["url"],
                    callback=self.parse_post,
                    errback=self.post_failed,
                    meta={"handle_httpstatus_list": ERROR_STATUSES, "archive_source": task["source"]},
                    dont_filter=True,
                )
            ]
        return [
            scrapy.Request(
                task["url"],
                callback=self.parse_citation,
                errback=self.citation_failed,
                meta={
                    "handle_httpstatus_list": ERROR_STATUSES,
                    "archive_key": task["key"],
                    "archive_url": task["url"],
                    CITATION_META_KEY: True,
                },
                dont_filter=force,
            )
        ]

    def parse_post(self, response: Response) -> Iterator[Any]:
        for output in super().parse_post(response):
            if isinstance(output, scrapy.Request) and "archive_key" in output.meta:
                # Through the shared filter: another worker may have met this citation.
                meta = {**output.meta, CITATION_META_KEY: True}
                output = output.replace(dont_filter=False, meta=meta)
            yield output
