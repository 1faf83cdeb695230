"""A worker's partial manifest: its own journal, merged into the run's manifest by `finalize`."""

from __future__ import annotations

from crawler.pipelines.partial import PartialManifestPipeline as _Partial


class PartialManifestPipeline(_Partial):
    """``ARCHIVE_RUN_ID`` is ``RUN_ID.WORKER_ID`` for a worker, so its journal is
    ``manifests/RUN_ID.WORKER_ID.journal.jsonl``; ``citearchive finalize`` merges them."""

    merged_by = "`citearchive finalize`"
