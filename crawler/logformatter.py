"""Scrapy's log formatter, without building a DEBUG record per item unless DEBUG is logged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure
    from typing_extensions import Self


class QuietItemsLogFormatter(LogFormatter):
    """Skips the "Scraped from" message below LOG_LEVEL DEBUG.

    Scrapy formats and emits a DEBUG record for every item, and the handler drops it
    at INFO; a citation with its page requisites yields a dozen journal items, so at
    INFO that record is a measurable share of a crawl's CPU (docs/performance.md).
    """

    def __init__(self, log_items: bool = True) -> None:
        self.log_items = log_items

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(log_items=str(crawler.settings.get("LOG_LEVEL")).upper() == "DEBUG")

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult | None:  # type: ignore[override]
        if not self.log_items:
            return None
        return super().scraped(item, response, spider)
