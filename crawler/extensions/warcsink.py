"""The one owner of the run's open WARC file; writes happen off the reactor thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import run_in_thread

from archive.collection import Collection
from archive.dedup import DigestIndex, payload_digest
from archive.lock import CollectionLock
from archive.sideindex import side_index_dir
from archive.writer import ArchiveWriter, recover_open_files

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from archive.capture import Capture, RecordLocation

logger = logging.getLogger(__name__)


class WarcSink:
    """Opens the WARC writer on ``spider_opened``, closes it on ``spider_closed``.

    Writes run in the reactor's thread pool behind one lock, so records are
    written one at a time and the reactor never blocks on disk. With
    ``ARCHIVE_DEDUP`` on, a response whose payload digest (and status) equals
    that of an earlier run's response in the collection (from its CDXJ index)
    is written as a ``revisit`` record.
    """

    def __init__(
        self,
        crawler: Crawler,
        collection: Collection,
        prefix: str,
        max_size: int,
        fsync: bool,
        dedup: bool = False,
    ):
        self.crawler = crawler
        self.collection = collection
        self.prefix = prefix
        self.max_size = max_size
        self.fsync = fsync
        self._lock = threading.Lock()
        self._writer: ArchiveWriter | None = None
        self._recovered: list[str] = []
        self._closed = False
        self._digests: DigestIndex | None = None
        self.dedup = dedup
        # Where the originals a revisit may refer to are: earlier runs' records, indexed.
        self.originals = collection
        # One writer per collection: taken here unless the process (the CLI) holds it already;
        # a second scrapyd job waits (queues) up to ARCHIVE_LOCK_WAIT seconds.
        self.lock: CollectionLock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        sink = cls(
            crawler,
            Collection(Path(settings.get("ARCHIVE_OUT")), settings.get("ARCHIVE_COLLECTION")),
            prefix=settings.get("ARCHIVE_WARC_PREFIX"),
            max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE"),
            fsync=settings.getbool("ARCHIVE_WARC_FSYNC"),
            dedup=settings.getbool("ARCHIVE_DEDUP"),
        )
        if not settings.getbool("ARCHIVE_LOCK_HELD"):
            sink.lock = CollectionLock(sink.collection.root, wait=settings.getfloat("ARCHIVE_LOCK_WAIT"))
        crawler.signals.connect(sink.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(sink.spider_closed, signal=signals.spider_closed)
        return sink

    async def spider_opened(self) -> None:
        await run_in_thread(self._open)

    def _open(self) -> None:
        self.collection.create()
        if self.lock is not None:
            self.lock.acquire()
        self._recovered = recover_open_files(self.collection.archive_dir)
        for name in self._recovered:
            logger.warning("Recovered %(name)s left open by an interrupted run", {"name": name})
        info = {"isPartOf": self.collection.name, "http-header-user-agent": self.crawler.settings.get("USER_AGENT")}
        self._writer = ArchiveWriter(
            self.collection.archive_dir,
            prefix=self.prefix,
            max_file_size=self.max_size,
            warcinfo=info,
            fsync=self.fsync,
            side_dir=side_index_dir(self.collection.index_path),
        )
        if self.dedup:
            self._digests = DigestIndex(self.originals.archive_dir)
            self._digests.load_index(self.originals.index_path)

    async def write(self, capture: Capture) -> RecordLocation:
        """Write one exchange (request and response records); return where the response landed."""
        location = await run_in_thread(self._write, capture)
        self.crawler.stats.inc_value("archive/records_written", 2)
        self.crawler.stats.inc_value("archive/bytes_written", location.length)
        if location.revisit_of is not None:
            self.crawler.stats.inc_value("archive/revisits_written")
            self.crawler.stats.inc_value("archive/revisit_bytes_written", location.length + (location.request_length or 0))
        return location

    def _write(self, capture: Capture) -> RecordLocation:
        with self._lock:
            if self._writer is None or self._closed:
                raise RuntimeError("the WARC sink is closed: no more records can be written")
            if self._digests is None or capture.truncated or not capture.body:
                return self._writer.write_capture(capture)
            digest = payload_digest(capture.body)
            origin = self._digests.find(digest, capture.url, capture.status)
            if origin is not None:
                return self._writer.write_revisit(capture, origin)
            # Only earlier runs' responses are originals: a run's own WARCs stay self-contained
            # (every request pairs with a response), and its duplicates are few.
            return self._writer.write_capture(capture)

    async def close(self) -> list[str]:
        """Close the open WARC file (idempotent); return the files to index.

        That is every file this run wrote, plus those an interrupted run left
        open and this one recovered (they were never indexed).
        """
        return await run_in_thread(self._close)

    def _close(self) -> list[str]:
        with self._lock:
            if self._writer is None:
                return []
            if not self._closed:
                self._writer.close()
                self._closed = True
            return [*self._recovered, *self._writer.closed_files]

    async def spider_closed(self) -> None:
        # After the pipelines closed: the manifest and the index are written by then.
        await self.close()
        if self.lock is not None:
            await run_in_thread(self.lock.release)
