"""The one owner of the run's open WARC file; writes happen off the reactor thread."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.asyncio import run_in_thread

from archive.collection import Collection
from archive.writer import ArchiveWriter, recover_open_files

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from archive.capture import Capture, RecordLocation

logger = logging.getLogger(__name__)


class WarcSink:
    """Opens the WARC writer on ``spider_opened``, closes it on ``spider_closed``.

    Writes run in the reactor's thread pool behind one lock, so records are
    written one at a time and the reactor never blocks on disk.
    """

    def __init__(self, crawler: Crawler, collection: Collection, prefix: str, max_size: int, fsync: bool):
        self.crawler = crawler
        self.collection = collection
        self.prefix = prefix
        self.max_size = max_size
        self.fsync = fsync
        self._lock = threading.Lock()
        self._writer: ArchiveWriter | None = None
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        sink = cls(
            crawler,
            Collection(Path(settings.get("ARCHIVE_OUT")), settings.get("ARCHIVE_COLLECTION")),
            prefix=settings.get("ARCHIVE_WARC_PREFIX"),
            max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE"),
            fsync=settings.getbool("ARCHIVE_WARC_FSYNC"),
        )
        crawler.signals.connect(sink.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(sink.spider_closed, signal=signals.spider_closed)
        return sink

    async def spider_opened(self) -> None:
        await run_in_thread(self._open)

    def _open(self) -> None:
        self.collection.create()
        recovered = recover_open_files(self.collection.archive_dir)
        for name in recovered:
            logger.warning("Recovered %(name)s left open by an interrupted run", {"name": name})
        info = {"isPartOf": self.collection.name, "http-header-user-agent": self.crawler.settings.get("USER_AGENT")}
        self._writer = ArchiveWriter(
            self.collection.archive_dir,
            prefix=self.prefix,
            max_file_size=self.max_size,
            warcinfo=info,
            fsync=self.fsync,
        )

    async def write(self, capture: Capture) -> RecordLocation:
        """Write one exchange (request and response records); return where the response landed."""
        location = await run_in_thread(self._write, capture)
        self.crawler.stats.inc_value("archive/records_written", 2)
        self.crawler.stats.inc_value("archive/bytes_written", location.length)
        return location

    def _write(self, capture: Capture) -> RecordLocation:
        with self._lock:
            if self._writer is None or self._closed:
                raise RuntimeError("the WARC sink is closed: no more records can be written")
            return self._writer.write_capture(capture)

    async def close(self) -> list[str]:
        """Close the open WARC file (idempotent); return the names of every file this run wrote."""
        return await run_in_thread(self._close)

    def _close(self) -> list[str]:
        with self._lock:
            if self._writer is None:
                return []
            if not self._closed:
                self._writer.close()
                self._closed = True
            return list(self._writer.closed_files)

    async def spider_closed(self) -> None:
        await self.close()
