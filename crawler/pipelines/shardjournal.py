"""The journal of one crawl process of `archive --processes N`: ``RUN_ID.pI``, merged by the parent process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from crawler.items import PostItem
from crawler.pipelines.partial import PartialManifestPipeline
from crawler.shards import Shard

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from crawler.items import CaptureItem


class ShardJournalPipeline(PartialManifestPipeline):
    """Journals this process's items in ``manifests/RUN_ID.pI.journal.jsonl``; compiles nothing.

    ``ARCHIVE_RUN_ID`` stays the run's own id, so a resumed process reads the
    run's merged journal (``RUN_ID.journal.jsonl``) to skip what is done. Only
    the process owning the posts (shard 0) journals them: every process reads
    the posts, and the merged manifest must list each once.
    """

    merged_by = "the parent `citearchive archive` process"

    shard: Shard

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        shard = Shard.from_settings(crawler.settings)
        if shard is None:
            raise NotConfigured("ShardJournalPipeline needs ARCHIVE_SHARD (set by `archive --processes`)")
        pipeline = super().from_crawler(crawler)
        pipeline.shard = shard
        pipeline.run_id = shard.journal_run_id(pipeline.run_id)
        return pipeline

    async def process_item(self, item: PostItem | CaptureItem) -> PostItem | CaptureItem:
        if isinstance(item, PostItem) and not self.shard.owns_posts:
            return item
        return await super().process_item(item)
