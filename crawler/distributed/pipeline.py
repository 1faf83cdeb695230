"""A worker's partial manifest: its own journal, merged into the run's manifest by `finalize`."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from archive.manifest import read_journal
from crawler.pipelines.manifest import ManifestPipeline

logger = logging.getLogger(__name__)


class PartialManifestPipeline(ManifestPipeline):
    """Journals items like :class:`ManifestPipeline` but compiles nothing at close.

    ``ARCHIVE_RUN_ID`` is ``RUN_ID.WORKER_ID`` for a worker, so its journal is
    ``manifests/RUN_ID.WORKER_ID.journal.jsonl``. Merging the journals into
    the manifest and the index is left to ``citearchive finalize``, which sees
    every worker's output.
    """

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
            "Wrote partial manifest %(path)s and %(n)d WARC file(s); `citearchive finalize` merges them",
            {"path": path, "n": len(warc_files)},
        )
        return dict(counts)
