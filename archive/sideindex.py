"""Side indexes: each WARC's CDXJ lines, written by the writer as it writes, so a run's end reads no WARC."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import IO, TYPE_CHECKING

from archive.cdxj import index_warc_files, merge_into_index, record_line
from archive.recovery import OPEN_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Iterable

    from warcio.recordloader import ArcWarcRecord

    from archive.collection import Collection

__all__ = [
    "SideIndex",
    "discard_side_files",
    "drop_stale_side_files",
    "index_collection",
    "index_new_files",
    "move_side_file",
    "read_side_file",
    "side_index_dir",
    "update_index",
]

logger = logging.getLogger(__name__)

#: A closed WARC's side index: ``NAME.cdxj`` (``NAME.cdxj.open`` while the WARC is written).
SIDE_SUFFIX = ".cdxj"
_TRAILER = b"!end "
#: Bytes read from a side index's end to find its trailer line (which is far shorter).
_TAIL = 4096


def side_index_dir(index_path: Path) -> Path:
    """Where writers leave side indexes for the index at ``index_path``: ``indexes/pending/``.

    A subdirectory, so pywb (which reads the ``*.cdx``/``*.cdxj`` files of
    ``indexes/`` itself), the WACZ export and everything that globs
    ``archive/`` (recovery, merges) never meet these files.
    """
    return Path(index_path).parent / "pending"


class SideIndex:
    """The CDXJ lines of the WARC file being written, kept next to the index until it takes them.

    ``side_dir/NAME.cdxj.open`` while the WARC file ``NAME`` is written,
    renamed ``NAME.cdxj`` with a trailer (its own length and the WARC's size)
    by :meth:`commit` once the WARC was closed and renamed: a complete side
    index exists only for a cleanly closed WARC. Not fsynced: the WARC is the
    truth, and a side index that is missing, partial or does not match its
    WARC makes :func:`index_new_files` read the WARC instead. So a line that
    cannot be had, or written, drops the side index rather than the record.
    """

    def __init__(self, side_dir: Path, name: str) -> None:
        self.name = name
        self.path = Path(side_dir) / (name + SIDE_SUFFIX)
        self.partial = self.path.with_name(self.path.name + OPEN_SUFFIX)
        self.path.unlink(missing_ok=True)  # an earlier WARC's of the same name is stale now
        self._fh: IO[bytes] | None = self.partial.open("wb")
        self._bytes = 0

    @classmethod
    def start(cls, side_dir: Path, name: str) -> SideIndex | None:
        """A side index for the WARC file ``name``, or None (logged) if it cannot be created."""
        try:
            return cls(side_dir, name)
        except OSError as exc:
            logger.warning(
                "Cannot start the side index of %(name)s (%(error)s); the index will read the WARC",
                {"name": name, "error": exc},
            )
            return None

    def add(self, record: ArcWarcRecord, offset: int, length: int) -> None:
        """Add the line of ``record``, just written and flushed at ``offset`` (if it is indexed)."""
        if self._fh is None:
            return
        try:
            line = record_line(record, self.name, offset, length)
            if line is not None:
                data = line.encode("utf-8") + b"\n"
                self._fh.write(data)
                self._bytes += len(data)
        except Exception as exc:  # noqa: BLE001 - a shortcut only: the WARC is indexed instead
            logger.warning(
                "Cannot keep the CDXJ line of a record in %(name)s (%(error)s); the index will read the WARC",
                {"name": self.name, "error": exc},
            )
            self.abandon()

    def commit(self, warc_size: int) -> None:
        """Mark the lines complete for the WARC file, now closed at ``warc_size`` bytes."""
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        trailer = _TRAILER + json.dumps({"bytes": self._bytes, "warc_size": warc_size}).encode() + b"\n"
        try:
            with fh:
                fh.write(trailer)
            os.rename(self.partial, self.path)
        except OSError as exc:
            logger.warning(
                "Cannot finish the side index of %(name)s (%(error)s); the index will read the WARC",
                {"name": self.name, "error": exc},
            )
            _remove(self.partial)

    def abandon(self) -> None:
        """Drop the lines: the WARC file will be indexed from its records."""
        fh, self._fh = self._fh, None
        if fh is not None:
            with contextlib.suppress(OSError):  # the file goes next; nothing in it is needed
                fh.close()
        _remove(self.partial)


def _bare(name: str) -> bool:
    """Whether ``name`` is a file name (no directory part): the only names with side indexes."""
    return bool(name) and name not in (".", "..") and Path(name).name == name


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("Cannot remove %(path)s: %(error)s", {"path": path, "error": exc})


def drop_stale_side_files(side_dir: Path, archive_dir: Path) -> list[str]:
    """Remove the partial side indexes whose WARC is not being written (no ``.open`` in ``archive_dir``).

    What a crashed writer left: its WARC was repaired by recovery (and is
    indexed from its records) or never existed. Call it where one writer owns
    the directory, as :class:`~archive.writer.ArchiveWriter` does when it
    starts. Returns the names of the WARC files whose side index went.
    """
    side_dir, archive_dir = Path(side_dir), Path(archive_dir)
    suffix = SIDE_SUFFIX + OPEN_SUFFIX
    dropped: list[str] = []
    for path in sorted(side_dir.glob(f"*{suffix}")):
        name = path.name[: -len(suffix)]
        if not (archive_dir / (name + OPEN_SUFFIX)).exists():
            path.unlink(missing_ok=True)
            dropped.append(name)
    return dropped


def read_side_file(archive_dir: Path, side_dir: Path, name: str) -> list[str] | None:
    """The lines of the complete side index of the WARC ``name``, if it matches that file; else None.

    None for a missing side index, a partial one (removed: its WARC was not
    closed by its writer), a torn one (no trailer, or a trailer that does not
    count its bytes) or one whose WARC is missing or not of the size it was
    closed at. Lines are split as :func:`index_warc_files` splits its output.
    """
    if not _bare(name):
        return None
    path = Path(side_dir) / (name + SIDE_SUFFIX)
    _remove(path.with_name(path.name + OPEN_SUFFIX))
    # Read line by line, after checking the trailer: at the end of a large run the whole
    # file as bytes and as text beside the lines was the run's peak memory.
    try:
        with path.open("rb") as fh:
            warc_size = (Path(archive_dir) / name).stat().st_size
            size = fh.seek(0, os.SEEK_END)
            tail_start = max(0, size - _TAIL)
            fh.seek(tail_start)
            tail = fh.read()
            newline = tail.rfind(b"\n", 0, len(tail) - 1)
            cut = tail_start + newline + 1
            trailer = tail[newline + 1 :]
            try:
                expected = json.loads(trailer[len(_TRAILER) :]) if trailer.startswith(_TRAILER) else None
            except ValueError:
                expected = None
            if (
                not tail.endswith(b"\n")
                or (newline < 0 and tail_start > 0)
                or expected != {"bytes": cut, "warc_size": warc_size}
            ):
                logger.info("The side index of %(name)s does not match it; reading the WARC", {"name": name})
                return None
            fh.seek(0)
            lines: list[str] = []
            position = 0
            for raw in fh:
                if position >= cut:
                    break
                position += len(raw)
                lines.extend(line for line in raw.decode("utf-8").splitlines() if line)
    except FileNotFoundError:
        return None
    except ValueError:  # UnicodeDecodeError
        logger.info("The side index of %(name)s does not match it; reading the WARC", {"name": name})
        return None
    except OSError as exc:
        logger.warning("Cannot read the side index of %(name)s: %(error)s", {"name": name, "error": exc})
        return None
    return lines


def index_new_files(archive_dir: Path, names: Iterable[str], side_dir: Path | None) -> list[str]:
    """CDXJ lines (sorted, unique) of the WARCs ``names`` in ``archive_dir``: :func:`index_warc_files`'s.

    From each file's side index in ``side_dir`` where it is complete and
    matches the file (see :func:`read_side_file`): reading the lines costs
    a sort. The other files, e.g. those a crashed run left ``.open`` and
    recovery repaired, are indexed from their records by cdxj_indexer;
    errors are its: :class:`IndexLookupError`.
    """
    archive_dir = Path(archive_dir)
    lines: list[str] = []
    unindexed: list[str] = []
    for name in names:
        kept = read_side_file(archive_dir, side_dir, name) if side_dir is not None else None
        if kept is None:
            unindexed.append(name)
        else:
            lines.extend(kept)
    if unindexed:
        lines.extend(index_warc_files(archive_dir, unindexed))
    # In place (no set, no second list): at 20,000 captures these lines are the end of a run's peak memory.
    lines.sort()
    unique = 0
    for line in lines:
        if unique == 0 or line != lines[unique - 1]:
            lines[unique] = line
            unique += 1
    del lines[unique:]
    return lines


def discard_side_files(side_dir: Path, names: Iterable[str]) -> None:
    """Remove the side indexes (complete or partial) of the WARCs ``names``."""
    for name in names:
        if not _bare(name):
            continue
        path = Path(side_dir) / (name + SIDE_SUFFIX)
        _remove(path)
        _remove(path.with_name(path.name + OPEN_SUFFIX))


def move_side_file(source_dir: Path, target_dir: Path, name: str) -> bool:
    """Move the complete side index of the WARC ``name`` along with it; drop a partial one.

    For a merge that moves staged WARCs into a collection: the side index
    stays valid, as it names the file by its name and size. Returns whether
    one moved.
    """
    if not _bare(name):
        return False
    source = Path(source_dir) / (name + SIDE_SUFFIX)
    _remove(source.with_name(source.name + OPEN_SUFFIX))
    if not source.exists():
        return False
    try:
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        shutil.move(source, Path(target_dir) / source.name)
    except OSError as exc:  # the target reads the WARC instead
        logger.warning("Cannot move the side index of %(name)s: %(error)s", {"name": name, "error": exc})
        _remove(source)
        return False
    return True


def update_index(index_path: Path, archive_dir: Path, names: Iterable[str], side_dir: Path | None) -> int:
    """Merge the WARCs ``names`` into the index at ``index_path``; return its line count.

    What a run's end does: :func:`index_new_files`, :func:`merge_into_index`,
    then the side indexes it used are removed (kept if the merge fails).
    """
    names = list(names)
    count = merge_into_index(index_path, index_new_files(archive_dir, names, side_dir), presorted=True)
    if side_dir is not None:
        discard_side_files(side_dir, names)
    return count


def index_collection(collection: Collection, names: Iterable[str]) -> int:
    """:func:`update_index` for the WARCs ``names`` of ``collection``, with the side indexes its writers leave."""
    index_path = collection.index_path
    return update_index(index_path, collection.archive_dir, names, side_index_dir(index_path))
