"""Keep each post read (``citearchive citations``) in memory, in the order read: nothing is written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.items import PostItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class PostCollector:
    """The posts of a crawl of :class:`~crawler.spiders.citationlist.CitationListSpider`, for its command to print."""

    def __init__(self) -> None:
        self.posts: list[PostItem] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PostItem):
            self.posts.append(item)
        return item
