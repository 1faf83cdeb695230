"""Finalize a distributed run: collect, reconcile, then write the run's manifest and index."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.collection import Collection
from archive.journal import journal_line, read_journal
from archive.manifeststream import write_manifest_from_journals
from archive.sideindex import index_collection
from crawler.distributed import state
from crawler.distributed.collect import collect, run_journals, run_warc_files
from crawler.distributed.reconcile import parse_registrations, reconcile

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.distributed.state import Redis, RunInfo
    from crawler.distributed.tasks import Task


logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Finalized:
    manifest_path: Path | None = None
    requeued: list[Task] = field(default_factory=list)
    warc_files: int = 0


def finalize_run(client: Redis, run: RunInfo, out: Path) -> Finalized:
    """Merge every worker's output; re-enqueue (forced) what no journal accounts for.

    Call it when no worker is alive and the queues are empty. When work is
    missing nothing is written but the tasks: run workers, then finalize again.
    """
    keys = run.keys
    collect(out, run.collection, keys)
    collection = Collection(out, run.collection)
    journals = run_journals(collection, keys)
    entries = (entry for journal in journals for entry in read_journal(journal))
    result = reconcile(parse_registrations(state.registrations(client, run)), entries)
    if not result.complete:
        state.push_tasks(client, run, result.missing)
        return Finalized(requeued=result.missing)
    path = collection.manifest_path(run.run_id)
    # The posts in enqueue order, then the workers' other lines: what the manifest is compiled
    # from, streamed (never a whole manifest in memory). Not a *.journal.jsonl: no run reads it.
    reconciled = collection.manifests_dir / f".{run.run_id}.reconciled.jsonl"
    try:
        _write_reconciled(reconciled, result.posts, journals)
        write_manifest_from_journals(
            path, [reconciled], run_id=run.run_id, collection=run.collection, started=run.started, finished=state.utc_now()
        )
    finally:
        reconciled.unlink(missing_ok=True)
    names = run_warc_files(collection, keys)
    if names:
        index_collection(collection, names)
    logger.info("Wrote manifest %(path)s and indexed %(n)d WARC file(s)", {"path": path, "n": len(names)})
    return Finalized(manifest_path=path, warc_files=len(names))


def _write_reconciled(path: Path, posts: list[dict[str, Any]], journals: list[Path]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for post in posts:
            out.write(journal_line(post))
        for journal in journals:
            for entry in read_journal(journal):
                if entry.get("kind") != "post":
                    out.write(journal_line(entry))
