"""The TTY progress line counts posts, distinct URLs and outcomes."""

from __future__ import annotations

import io

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.extensions.progress import Progress
from crawler.items import CaptureItem, CaptureOutcome, PostItem
from crawler.spiders.citations import CitationsSpider


def test_progress_line_counts_outcomes() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    citations = [{"key": "a"}, {"key": "b"}, {"key": "a"}]
    progress.item_scraped(PostItem("p", "post.html", None, None, None, citations))
    progress.item_scraped(CaptureItem("a", "http://a/", CaptureOutcome(status="archived")))
    progress.item_scraped(CaptureItem("b", "http://b/", CaptureOutcome(status="failed", reason="404")))
    assert stream.getvalue().split("\r")[-1] == "\x1b[Kposts 1 · URLs 2/2 · archived 1 failed 1"


def test_progress_is_off_unless_asked_for() -> None:
    crawler = get_crawler(CitationsSpider, {"ARCHIVE_PROGRESS": False})
    with pytest.raises(NotConfigured):
        Progress.from_crawler(crawler)
