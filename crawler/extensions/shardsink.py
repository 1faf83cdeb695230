"""The WARC sink of one crawl process of `archive --processes N`: its files are staged apart from its siblings'."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from archive.collection import Collection
from archive.dedup import DigestIndex
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

    home: Collection

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        staging = crawler.settings.get("ARCHIVE_SHARD_STAGING")
        if not staging:
            raise NotConfigured("ShardWarcSink needs ARCHIVE_SHARD_STAGING (set by `archive --processes`)")
        sink = super().from_crawler(crawler)
        sink.home = sink.collection
        sink.collection = Collection(Path(staging), sink.home.name)
        return sink

    def _open(self) -> None:
        super()._open()
        if self.dedup:
            # The originals a revisit refers to are earlier runs' records, in the collection.
            digests = DigestIndex(self.home.archive_dir)
            digests.load_index(self.home.index_path)
            with self._lock:
                self._digests = digests
