"""A partial manifest: the journal of one of several crawl processes, merged into the run's manifest later."""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING

from archive.manifest import read_journal
from crawler.pipelines.manifest import ManifestPipeline

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)


class PartialManifestPipeline(ManifestPipeline):
    """Journals items like :class:`ManifestPipeline` but compiles nothing at close.

    Its journal is ``manifests/RUN_ID.journal.jsonl`` for its ``run_id`` (a
    distributed worker's is ``RUN_ID.WORKER_ID``, a crawl process's of
    ``archive --processes`` ``RUN_ID.pI``). Whoever sees every process's output
    (``merged_by``) merges the journals into the run's manifest and the index.
    """

    merged_by = "the run's merge"

    @property
    def manifest_path(self) -> Path:
        return self.collection.journal_path(self.run_id)

    def _finish(self, warc_files: list[str]) -> dict[str, int]:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
        path = self.collection.journal_path(self.run_id)
        counts: Counter[str] = Counter()
        if path.exists():
            for entry in read_journal(path):
                if entry.get("kind") == "capture":
                    counts[str((entry.get("capture") or {}).get("status"))] += 1
        logger.info(
            "Wrote partial manifest %(path)s and %(n)d WARC file(s); %(merger)s merges them",
            {"path": path, "n": len(warc_files), "merger": self.merged_by},
        )
        return dict(counts)
