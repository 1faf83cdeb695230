"""The spider of `citearchive citations`: reads the posts as a run does, and requests nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import scrapy

from crawler.items import PostItem
from crawler.spiders.citations import CitationsSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from scrapy.http import Response


class CitationListSpider(CitationsSpider):
    """:class:`CitationsSpider` less every request but those for post pages (and feed entries' pages).

    Its posts are read by the same code as a run's, with the same rules; what it yields is only
    :class:`PostItem`\\s, which the command's pipeline keeps (crawler/pipelines/postlist.py).
    """

    name = "citations-list"

    async def start(self) -> AsyncIterator[Any]:
        async for output in super().start():
            if self._wanted(output):
                yield output

    def parse_post(self, response: Response) -> Iterator[Any]:
        yield from self._only_posts(super().parse_post(response))

    def _only_posts(self, outputs: Iterable[Any]) -> Iterator[Any]:
        for output in outputs:
            if self._wanted(output):
                yield output

    def _wanted(self, output: Any) -> bool:
        if isinstance(output, scrapy.Request):
            return output.callback == self.parse_post  # a post page: a source, or a feed entry's link
        return isinstance(output, PostItem)
