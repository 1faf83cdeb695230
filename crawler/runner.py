"""Run one crawl in this process: settings from options, one CrawlerProcess, one reactor start."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.collection import Collection
from crawler.runid import new_run_id
from crawler.runlog import Verbosity, install_run_log, log_settings
from crawler.spiders.citations import CitationsSpider


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
    which Scrapy closes the spider and the manifest is still compiled). Call
    it once per process: a Twisted reactor cannot be restarted.
    """
    settings = build_settings(options)
    install_run_log(settings, options.verbosity)
    process = CrawlerProcess(settings)
    process.crawl(CitationsSpider)
    process.start()
    return Collection(options.out, options.collection).manifest_path(options.run_id)
