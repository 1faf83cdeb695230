"""A one-line progress display for interactive runs; cron gets plain log lines instead."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.items import CaptureItem, PostItem

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


def progress_line(posts: int, expected: int, statuses: Counter[str]) -> str:
    """``posts 1 · URLs 4/10 · archived 3 failed 1``: posts read, distinct URLs done of those cited, outcomes."""
    counts = " ".join(f"{status} {n}" for status, n in sorted(statuses.items()))
    return f"posts {posts} · URLs {sum(statuses.values())}/{expected} · {counts}".rstrip(" ·")


class Progress:
    """Redraws ``posts 1 · citations 4/10 · archived 3 failed 1`` on each item."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.posts = 0
        self.expected = 0
        self.statuses: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARCHIVE_PROGRESS"):
            raise NotConfigured
        progress = cls(sys.stderr)
        crawler.signals.connect(progress.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def item_scraped(self, item: Any) -> None:
        if isinstance(item, PostItem):
            self.posts += 1
            # A citation skipped when read (a malformed URL) is no URL to fetch.
            self.expected += len({c["key"] for c in item.citations if "capture" not in c})
        elif isinstance(item, CaptureItem):
            self.statuses[item.outcome.status] += 1
        self.redraw()

    def redraw(self) -> None:
        self.stream.write(f"\r\x1b[K{progress_line(self.posts, self.expected, self.statuses)}")
        self.stream.flush()

    def spider_closed(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
