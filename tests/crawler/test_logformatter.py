"""The "Scraped from" item log is only built at LOG_LEVEL DEBUG."""

from __future__ import annotations

from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.logformatter import QuietItemsLogFormatter
from crawler.spiders.citations import CitationsSpider


def test_items_are_logged_only_at_debug() -> None:
    spider = CitationsSpider()
    quiet = build_from_crawler(QuietItemsLogFormatter, get_crawler(CitationsSpider, {"LOG_LEVEL": "INFO"}))
    assert quiet.scraped({"a": 1}, None, spider) is None
    loud = build_from_crawler(QuietItemsLogFormatter, get_crawler(CitationsSpider, {"LOG_LEVEL": "DEBUG"}))
    assert loud.scraped({"a": 1}, None, spider) is not None


def test_it_is_the_project_log_formatter() -> None:
    from crawler import settings

    assert settings.LOG_FORMATTER == "crawler.logformatter.QuietItemsLogFormatter"
