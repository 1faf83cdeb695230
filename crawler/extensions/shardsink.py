"""The WARC sink of one crawl process of `archive --processes N`: its files are staged apart from its siblings'."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from archive.collection import Collection
from crawler.extensions.warcsink import WarcSink

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class ShardWarcSink(WarcSink):
    """Writes into ``ARCHIVE_SHARD_STAGING/collections/NAME/archive`` instead of the collection.

    The sink repairs every ``.open`` WARC it finds when it opens; in the shared
    archive directory those would be a sibling's files being written. In its
    own staging directory an ``.open`` file can only be its own, left by a
    killed earlier attempt. The parent process moves the staged files into the
    collection when the processes have ended. Deduplication still looks up
    earlier runs in the collection's own index and WARCs.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        staging = crawler.settings.get("ARCHIVE_SHARD_STAGING")
        if not staging:
            raise NotConfigured("ShardWarcSink needs ARCHIVE_SHARD_STAGING (set by `archive --processes`)")
        sink = super().from_crawler(crawler)
        # Revisits still refer to earlier runs' records in the collection (sink.originals).
        sink.collection = Collection(Path(staging), sink.collection.name)
        return sink
