"""Run one crawl in this process: settings from options, one CrawlerProcess, one reactor start."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.collection import Collection
from crawler.runid import new_run_id
from crawler.runlog import Verbosity, install_run_log, log_settings
from crawler.spiders.citations import CitationsSpider
from crawler.stopsignals import exit_code, installed, signal_name

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


@dataclass(slots=True)
class CrawlOptions:
    sources: list[str]
    out: Path
    collection: str
    allow_private: bool = False
    base_url: str | None = None
    include_internal: bool = False
    run_id: str = field(default_factory=new_run_id)
    overrides: dict[str, Any] = field(default_factory=dict)
    trusted_hosts: list[str] = field(default_factory=list)
    verbosity: Verbosity = "default"  # -q, neither, -v: what reaches the terminal (crawler/runlog.py)
    progress: bool = False


def proxy_hosts() -> list[str]:
    """Hosts of the configured http(s) proxies: the guard must let the crawler reach them."""
    hosts = []
    for scheme, url in urllib.request.getproxies().items():
        if scheme in ("http", "https") and (host := urlsplit(url).hostname):
            hosts.append(host)
    return hosts


def build_settings(options: CrawlOptions) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(
        {
            "ARCHIVE_OUT": str(options.out),
            "ARCHIVE_COLLECTION": options.collection,
            "ARCHIVE_RUN_ID": options.run_id,
            "ARCHIVE_ALLOW_PRIVATE": options.allow_private,
            "ARCHIVE_SOURCES": options.sources,
            "ARCHIVE_BASE_URL": options.base_url or "",
            "ARCHIVE_INCLUDE_INTERNAL": options.include_internal,
            "ARCHIVE_TRUSTED_HOSTS": [*proxy_hosts(), *options.trusted_hosts],
            "ARCHIVE_PROGRESS": options.progress,
            **log_settings(options.out, options.collection, options.run_id, options.verbosity),
            **options.overrides,
        },
        priority="cmdline",
    )
    return settings


def run_crawl(options: CrawlOptions) -> Path:
    """Archive the sources; return the path where the run's manifest is written.

    Blocks until the crawl ends (or is interrupted with SIGINT/SIGTERM, after
    which the spider closes within moments and the manifest is still compiled).
    Call it once per process: a Twisted reactor cannot be restarted.
    """
    settings = build_settings(options)
    install_run_log(settings, options.verbosity)
    crawl(settings, CitationsSpider)
    return Collection(options.out, options.collection).manifest_path(options.run_id)


def crawl(settings: Settings, spidercls: type[Spider], *, exit_before_start: bool = False) -> Crawler:
    """Run one crawl in this process, with one CrawlerProcess and one reactor start; return its crawler.

    With the CLI's :class:`~crawler.stopsignals.StopSignals` installed, SIGINT and
    SIGTERM go to the :class:`~crawler.extensions.interrupt.Interrupt` extension
    (requests cut, the spider closed within moments) rather than to Scrapy's
    handlers, whose stop waits for every request the downloader holds. Without
    it (library use) Scrapy handles them as usual. With ``exit_before_start`` (a
    crawl process of ``--processes``, whose parent writes the manifest) a stop
    that comes before the engine runs ends the process at once: it has archived
    nothing, and 200 such processes starting on two cores would take many seconds
    of CPU to open and close their spiders.
    """
    stop = installed()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spidercls)
    started = False

    def interrupt(signum: int) -> None:  # in the signal handler: hand the stop to the reactor
        if exit_before_start and not (started and _engine_running(crawler)):
            os._exit(exit_code(signum))
        if started:
            from twisted.internet import reactor

            reactor.callFromThread(_interrupt, crawler, signum)

    with stop.stopping(interrupt):
        # Not before crawl(): it installs the reactor (a signal meanwhile is noted, and acted on below).
        process.crawl(crawler)
        started = True
        if stop.signum is not None:
            interrupt(stop.signum)
        process.start(install_signal_handlers=not stop.active)
    return crawler


def _engine_running(crawler: Crawler) -> bool:
    engine = getattr(crawler, "engine", None)
    return bool(engine is not None and engine.running)


def _interrupt(crawler: Crawler, signum: int) -> None:
    from scrapy.utils.defer import deferred_from_coro

    from crawler.extensions.interrupt import Interrupt

    extension = crawler.get_extension(Interrupt) if hasattr(crawler, "extensions") else None
    if extension is not None:
        extension.interrupt(signal_name(signum))
    else:  # turned off with -s EXTENSIONS: Scrapy's own stop
        deferred_from_coro(crawler.stop_async())
