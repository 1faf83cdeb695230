"""Merge the output of several crawl processes into one collection: staged WARCs and journals in, one manifest and index out."""

from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING

from archive.atomic import fsync_dir
from archive.collection import Collection
from archive.exceptions import ManifestError
from archive.journal import Journal
from archive.sideindex import (
    drop_stale_side_files,
    move_side_file,
    side_index_dir,
)
from archive.writer import recover_open_files

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["WARC_SUFFIXES", "append_journal", "collect_staged", "warc_files_with_prefix"]

logger = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc.gz", ".warc")


def warc_files_with_prefix(archive_dir: Path, prefix: str) -> list[str]:
    """Names of the closed WARC files in ``archive_dir`` whose name starts with ``prefix``."""
    if not archive_dir.is_dir():
        return []
    return sorted(
        path.name for path in archive_dir.iterdir() if path.name.startswith(prefix) and path.name.endswith(WARC_SUFFIXES)
    )


def append_journal(source: Path, target: Path) -> None:
    """Move the journal ``source`` to ``target``, appending it when ``target`` exists; both lose a torn last line.

    ``target`` is fsynced before ``source`` is removed, so a crash in between
    leaves lines twice, never lost (compiling a manifest tolerates repeats).
    """
    Journal(source).close()  # cuts a torn last line (a killed process's)
    if not target.exists():
        shutil.move(source, target)
        fsync_dir(target.parent)
        return
    Journal(target).close()
    with source.open("rb") as src, target.open("ab") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    source.unlink()
    fsync_dir(source.parent)


def collect_staged(staged_roots: Iterable[Path], target: Collection, warc_prefix: str, journal_glob: str) -> list[str]:
    """Move each ``ROOT/collections/NAME``'s WARCs (names starting ``warc_prefix``) and journals into ``target``.

    Call it only when no process writing there is alive: ``.open`` WARCs are
    cut back to their last complete record (a killed process's) and journals
    lose a torn last line as they move. A closed WARC's side index (its CDXJ
    lines, :mod:`archive.sideindex`) moves with it. Returns the names moved.
    """
    target.create()
    moved: list[str] = []
    for root in staged_roots:
        staged = Collection(root, target.name)
        if staged.archive_dir.is_dir():
            for name in recover_open_files(staged.archive_dir):
                logger.warning("Recovered %(name)s left open by a crawl process that died", {"name": name})
            # A dead process's partial side index (its WARC repaired or removed) is never used.
            drop_stale_side_files(side_index_dir(staged.index_path), staged.archive_dir)
            for name in warc_files_with_prefix(staged.archive_dir, warc_prefix):
                destination = target.archive_dir / name
                if destination.exists():
                    raise ManifestError(f"{destination} exists already: two crawl processes wrote one WARC name")
                shutil.move(staged.archive_dir / name, destination)
                move_side_file(side_index_dir(staged.index_path), side_index_dir(target.index_path), name)
                moved.append(name)
        if staged.manifests_dir.is_dir():
            for journal in sorted(staged.manifests_dir.glob(journal_glob)):
                append_journal(journal, target.manifests_dir / journal.name)
                moved.append(journal.name)
    if moved:
        fsync_dir(target.archive_dir)
    return moved
