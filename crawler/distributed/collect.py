"""Move each worker's staged WARCs and journal into the collection, repairing what a killed worker left."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from archive.collection import Collection
from archive.exceptions import ManifestError
from archive.journal import Journal
from archive.writer import recover_open_files
from crawler.distributed.keys import STAGING_DIR, RunKeys

logger = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc.gz", ".warc")


def run_warc_files(collection: Collection, keys: RunKeys) -> list[str]:
    """Names of the run's closed WARC files in the collection's archive directory."""
    if not collection.archive_dir.is_dir():
        return []
    return sorted(
        path.name
        for path in collection.archive_dir.iterdir()
        if path.name.startswith(keys.warc_prefix_of_run) and path.name.endswith(WARC_SUFFIXES)
    )


def run_journals(collection: Collection, keys: RunKeys) -> list[Path]:
    return sorted(collection.manifests_dir.glob(f"{keys.run_id}.*.journal.jsonl"))


def _append_file(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("ab") as dst:
        shutil.copyfileobj(src, dst)
    source.unlink()


def collect(out: Path, collection_name: str, keys: RunKeys) -> int:
    """Gather ``OUT/workers/*/collections/NAME`` into ``OUT/collections/NAME``; return files moved.

    Call it only when no worker of the run is alive: ``.open`` WARCs are cut
    back to their last complete record (a killed worker's) and journals lose a
    torn last line before they move.
    """
    target = Collection(out, collection_name)
    target.create()
    moved = 0
    staging = out / STAGING_DIR
    worker_dirs = sorted(path for path in staging.iterdir() if path.is_dir()) if staging.is_dir() else []
    for worker_dir in worker_dirs:
        staged = Collection(worker_dir, collection_name)
        if staged.archive_dir.is_dir():
            for name in recover_open_files(staged.archive_dir):
                logger.warning("Recovered %(name)s left open by a worker that died", {"name": name})
            for name in run_warc_files(staged, keys):
                destination = target.archive_dir / name
                if destination.exists():
                    raise ManifestError(f"{destination} exists already: two workers wrote one WARC name")
                shutil.move(staged.archive_dir / name, destination)
                moved += 1
        if staged.manifests_dir.is_dir():
            for journal in run_journals(staged, keys):
                Journal(journal).close()  # cuts a torn last line
                destination = target.manifests_dir / journal.name
                if destination.exists():  # a worker id restarted after an earlier finalize round
                    _append_file(journal, destination)
                else:
                    shutil.move(journal, destination)
                moved += 1
    return moved
