"""Journals every item as it lands; at the end compiles the manifest and updates the index."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.utils.asyncio import run_in_thread

from archive.collection import Collection
from archive.manifest import Journal
from archive.manifeststream import write_manifest_from_journals
from archive.sideindex import index_collection
from crawler.extensions.warcsink import WarcSink
from crawler.runid import new_run_id

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from crawler.items import CaptureItem, PostItem

logger = logging.getLogger(__name__)

#: Journal kinds written without an fsync of their own (see ManifestPipeline._append).
UNSYNCED_KINDS = frozenset({"requisites", "requisite", "requisites_found"})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ManifestPipeline:
    """Appends each item to the run's journal, after its WARC records were flushed.

    The capture middleware awaited the WARC write before the response reached
    the spider, so a journal line never names a record that is not on disk.
    On close the WARC file is closed, the manifest is compiled from the
    journal (atomically) and the new WARC files are merged into the index.
    """

    def __init__(self, crawler: Crawler, collection: Collection, run_id: str):
        self.crawler = crawler
        self.collection = collection
        self.run_id = run_id
        self.started = utc_now()
        self._journal: Journal | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        collection = Collection(Path(settings.get("ARCHIVE_OUT")), settings.get("ARCHIVE_COLLECTION"))
        pipeline = cls(crawler, collection, settings.get("ARCHIVE_RUN_ID") or new_run_id())
        # A resumed run keeps the start time of the run it completes.
        pipeline.started = settings.get("ARCHIVE_RUN_STARTED") or pipeline.started
        return pipeline

    @property
    def manifest_path(self) -> Path:
        return self.collection.manifest_path(self.run_id)

    async def open_spider(self) -> None:
        await run_in_thread(self._open_journal)
        self.crawler.stats.set_value("archive/run_id", self.run_id)
        self.crawler.stats.set_value("archive/manifest", str(self.manifest_path))

    def _open_journal(self) -> None:
        self.collection.create()
        self._journal = Journal(self.collection.journal_path(self.run_id))

    async def process_item(self, item: PostItem | CaptureItem) -> PostItem | CaptureItem:
        entries = [item.to_journal()]
        requisites = getattr(item, "requisites", None)
        if requisites is not None:  # a cited page's requisites, carried by its capture
            entries.insert(0, requisites.to_journal())
        await run_in_thread(self._append, *entries)
        return item

    def _append(self, *entries: dict[str, Any]) -> None:
        with self._lock:
            assert self._journal is not None
            # Requisite lines are flushed, and fsynced with the next capture or post line
            # (here the capture that carried them, or on close) rather than one fsync each.
            for entry in entries:
                self._journal.append(entry, sync=entry.get("kind") not in UNSYNCED_KINDS)

    async def close_spider(self) -> None:
        sink = self.crawler.get_extension(WarcSink)
        warc_files = await sink.close() if sink is not None else []
        try:
            summary = await run_in_thread(self._finish, warc_files)
        except OSError as exc:
            # The journal keeps every capture that landed: a rerun resumes and compiles it.
            logger.error(
                "Could not write the manifest or index (%(error)s); the journal %(journal)s keeps what "
                "was archived: run the same command again to finish",
                {"error": exc, "journal": self.collection.journal_path(self.run_id)},
            )
            return
        for status, count in summary.items():
            self.crawler.stats.set_value(f"archive/citations/{status}", count)

    def _finish(self, warc_files: list[str]) -> dict[str, int]:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
        journal_path = self.collection.journal_path(self.run_id)
        if self.crawler.stats.get_value("archive/interrupted"):
            from crawler.unreached import journal_unreached_posts

            journal_unreached_posts(journal_path, getattr(self.crawler.spider, "sources", []))
        # Streamed, one citation at a time: the manifest of a large run is never whole in memory.
        summary = write_manifest_from_journals(
            self.manifest_path,
            [journal_path],
            run_id=self.run_id,
            collection=self.collection.name,
            started=self.started,
            finished=utc_now(),
        )
        if warc_files:
            index_collection(self.collection, warc_files)
        logger.info(
            "Wrote manifest %(path)s and indexed %(n)d WARC file(s)",
            {"path": self.manifest_path, "n": len(warc_files)},
        )
        return summary
