"""Run one worker process: the citations spider on scrapy-redis's shared scheduler and duplicate filter."""

from __future__ import annotations

import re
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from archive.collection import Collection
from crawler.distributed.keys import STAGING_DIR
from crawler.distributed.presence import ttl_for
from crawler.distributed.spider import DistributedCitationsSpider
from crawler.distributed.state import RunInfo
from crawler.runlog import Verbosity, install_run_log
from crawler.runner import CrawlOptions, build_settings, crawl


def default_worker_id() -> str:
    """``HOST-xxxxxx``: the host name (file-name safe) plus a random suffix."""
    host = re.sub(r"[^A-Za-z0-9-]+", "-", socket.gethostname().split(".")[0]).strip("-")[:40] or "worker"
    return f"{host}-{secrets.token_hex(3)}"


@dataclass(slots=True)
class WorkerOptions:
    redis_url: str
    run: RunInfo
    worker_id: str
    out: Path
    allow_private: bool = False
    idle_exit: int = 0
    heartbeat: float = 5.0
    overrides: dict[str, Any] = field(default_factory=dict)
    verbosity: Verbosity = "default"

    @property
    def staging(self) -> Path:
        """The worker's own collections tree: OUT/workers/WORKER_ID."""
        return self.out / STAGING_DIR / self.worker_id

    @property
    def log_path(self) -> Path:
        """The worker's log: OUT/workers/WORKER_ID/collections/NAME/logs/RUN_ID.WORKER_ID.log."""
        return Collection(self.staging, self.run.collection).log_path(self.run.keys.journal_run_id(self.worker_id))


def worker_settings(options: WorkerOptions) -> Settings:
    keys = options.run.keys
    crawl = CrawlOptions(
        sources=[],
        out=options.staging,
        collection=options.run.collection,
        allow_private=options.allow_private,
        run_id=keys.journal_run_id(options.worker_id),
        overrides=options.overrides,
        verbosity=options.verbosity,
    )
    settings = build_settings(crawl)
    pipelines = {
        **settings.getdict("ITEM_PIPELINES"),
        "crawler.pipelines.manifest.ManifestPipeline": None,
        "crawler.distributed.pipeline.PartialManifestPipeline": 800,
    }
    extensions = {
        **settings.getdict("EXTENSIONS"),
        "crawler.distributed.presence.WorkerPresence": 200,
        # What a stop (SIGINT, SIGTERM) took from this worker goes back to the shared queue.
        "crawler.distributed.requeue.RequeueInterrupted": 650,
    }
    settings.setdict(
        {
            "ITEM_PIPELINES": pipelines,
            "EXTENSIONS": extensions,
            "ARCHIVE_WARC_PREFIX": keys.warc_prefix(options.worker_id),
            "ARCHIVE_REDIS_URL": options.redis_url,
            "ARCHIVE_WORKER_ID": options.worker_id,
            "ARCHIVE_DISTRIBUTED_RUN_ID": options.run.run_id,
            "ARCHIVE_WORKER_HEARTBEAT": options.heartbeat,
            # scrapy-redis: one queue and one fingerprint set for every worker,
            # kept when a worker closes (SCHEDULER_PERSIST) since others go on.
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": keys.requests,
            "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
            "DUPEFILTER_CLASS": "crawler.distributed.dupefilter.CitationDupeFilter",
            "REDIS_URL": options.redis_url,
            "REDIS_START_URLS_KEY": keys.tasks,
            "MAX_IDLE_TIME_BEFORE_CLOSE": options.idle_exit,
            # The probe's requests call back into the middleware, which the shared
            # queue cannot serialise (only spider methods travel between workers).
            "ARCHIVE_SOFT404_PROBE": False,
        },
        priority="cmdline",
    )
    return settings


def heartbeat_ttl(options: WorkerOptions) -> float:
    return ttl_for(options.heartbeat)


def run_worker(options: WorkerOptions) -> str:
    """Crawl until idle for ``idle_exit`` seconds (0: until stopped); return Scrapy's finish reason."""
    settings = worker_settings(options)
    install_run_log(settings, options.verbosity)
    crawler = crawl(settings, DistributedCitationsSpider)
    return str(crawler.stats.get_value("finish_reason") or "unknown")
