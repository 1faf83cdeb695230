"""Move each worker's staged WARCs and journal into the collection, repairing what a killed worker left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.collection import Collection
from crawler.distributed.keys import STAGING_DIR, RunKeys
from crawler.merge import collect_staged, warc_files_with_prefix

if TYPE_CHECKING:
    from pathlib import Path


def run_warc_files(collection: Collection, keys: RunKeys) -> list[str]:
    """Names of the run's closed WARC files in the collection's archive directory."""
    return warc_files_with_prefix(collection.archive_dir, keys.warc_prefix_of_run)


def run_journals(collection: Collection, keys: RunKeys) -> list[Path]:
    return sorted(collection.manifests_dir.glob(f"{keys.run_id}.*.journal.jsonl"))


def collect(out: Path, collection_name: str, keys: RunKeys) -> int:
    """Gather ``OUT/workers/*/collections/NAME`` into ``OUT/collections/NAME``; return files moved.

    Call it only when no worker of the run is alive: ``.open`` WARCs are cut
    back to their last complete record (a killed worker's) and journals lose a
    torn last line before they move (appended to one already there: a worker
    id restarted after an earlier finalize round).
    """
    staging = out / STAGING_DIR
    worker_dirs = sorted(path for path in staging.iterdir() if path.is_dir()) if staging.is_dir() else []
    target = Collection(out, collection_name)
    return len(collect_staged(worker_dirs, target, keys.warc_prefix_of_run, f"{keys.run_id}.*.journal.jsonl"))
