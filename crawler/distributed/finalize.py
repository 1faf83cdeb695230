"""Finalize a distributed run: collect, reconcile, then write the run's manifest and index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.collection import Collection
from archive.manifest import compile_manifest, read_journal
from crawler.distributed import state
from crawler.distributed.collect import collect, run_journals, run_warc_files
from crawler.distributed.reconcile import parse_registrations, reconcile
from crawler.merge import write_run

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.distributed.state import Redis, RunInfo
    from crawler.distributed.tasks import Task


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
    entries: list[dict[str, Any]] = []
    for journal in run_journals(collection, keys):
        entries.extend(read_journal(journal))
    result = reconcile(parse_registrations(state.registrations(client, run)), entries)
    if not result.complete:
        state.push_tasks(client, run, result.missing)
        return Finalized(requeued=result.missing)
    manifest = compile_manifest(
        result.entries, run_id=run.run_id, collection=run.collection, started=run.started, finished=state.utc_now()
    )
    names = run_warc_files(collection, keys)
    path = write_run(collection, manifest, names)
    return Finalized(manifest_path=path, warc_files=len(names))
