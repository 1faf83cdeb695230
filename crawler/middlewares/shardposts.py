"""In the crawl processes of `archive --processes N` not owning the posts: post pages are read, not archived."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from crawler.shards import Shard

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

#: Set by the spider on every request for a post page or feed (and copied to its redirects).
SOURCE_META_KEY = "archive_source"
#: The flag the capture middleware skips: the page is archived by the process that owns the posts.
UNARCHIVED_FLAG = "cached"


class ShardPostsMiddleware:
    """Marks the responses of post requests so the capture middleware (950) does not store them.

    Every crawl process fetches and reads the posts to find its share of their
    citations; shard 0 alone archives and journals the post pages, so the run
    holds each once. It sits at 960: responses pass it before the capture
    middleware. The capture middleware skips responses flagged ``cached``
    (their exchange was archived elsewhere), which is the case here too.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        shard = Shard.from_settings(crawler.settings)
        if shard is None or shard.owns_posts:
            raise NotConfigured
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        if SOURCE_META_KEY in request.meta and UNARCHIVED_FLAG not in response.flags:
            response.flags.append(UNARCHIVED_FLAG)
        return response
