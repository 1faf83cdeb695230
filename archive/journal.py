"""The run journal: append-only JSON lines, one per captured item, fsynced as written."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archive.exceptions import ManifestError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

__all__ = ["Journal", "entry_at", "journal_line", "read_journal", "read_journal_offsets"]

logger = logging.getLogger(__name__)


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line without its newline (a write torn by a crash) before appending."""
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        # Walk back to the previous newline; journals are small and this runs once.
        pos = size
        while pos > 0:
            step = min(pos, 1 << 16)
            fh.seek(pos - step)
            newline = fh.read(step).rfind(b"\n")
            if newline >= 0:
                pos = pos - step + newline + 1
                break
            pos -= step
        logger.warning(
            "Cut a torn last line of %(n)d bytes from journal %(path)s",
            {"n": size - pos, "path": path},
        )
        fh.truncate(pos)
        fh.flush()
        os.fsync(fh.fileno())


def journal_line(entry: dict[str, Any]) -> str:
    """``entry`` as one journal line (compact JSON, newline-terminated)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


class Journal:
    """Append-only JSON-lines journal; each :meth:`append` is flushed and fsynced.

    A crash loses at most the line being written. Opening an existing journal
    (a resumed run) first cuts such a torn last line so new lines start clean.
    Not thread-safe: the caller serialises appends.
    """

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                _cut_torn_tail(self.path)
            self._fh: IO[bytes] | None = self.path.open("ab")
            self._unsynced = False
        except OSError as exc:
            raise ManifestError(f"Cannot open journal {self.path}: {exc}") from exc

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        """Write ``entry`` as one JSON line, then flush and fsync.

        With ``sync=False`` the line is flushed (it survives a crash of the process) and
        made durable by the next synced append or :meth:`close`: for bookkeeping lines that
        come by the dozen (page requisites), whose fsync each would dominate a crawl.
        """
        if self._fh is None:
            raise ManifestError(f"Journal {self.path} is closed; open a new Journal to append")
        line = journal_line(entry)
        try:
            self._fh.write(line.encode("utf-8"))
            self._fh.flush()
            if self.fsync and sync:
                os.fsync(self._fh.fileno())
            self._unsynced = self.fsync and not sync
        except OSError as exc:
            raise ManifestError(f"Cannot append to journal {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._fh is not None:
            try:
                if self._unsynced:
                    os.fsync(self._fh.fileno())
            finally:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return value if isinstance(value, dict) else None


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the journal's entries; a torn or invalid last line is logged and skipped.

    An invalid line anywhere else is corruption, not a crash, and raises
    :class:`~archive.exceptions.ManifestError`.
    """
    for _, entry in read_journal_offsets(path):
        yield entry


def read_journal_offsets(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Like :func:`read_journal`, with the byte offset of each entry's line (see :func:`entry_at`)."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ManifestError(f"Cannot read journal {path}: {exc}") from exc
    with fh:
        pending: tuple[int, int, bytes] | None = None
        offset = 0
        for number, raw in enumerate(fh, start=1):
            if pending is not None:
                yield pending[1], _entry_or_raise(path, pending[0], pending[2])
            pending = (number, offset, raw) if raw.strip() else None
            offset += len(raw)
        if pending is not None:
            number, start, raw = pending
            entry = _parse(raw)
            if entry is None:
                logger.warning(
                    "Skipped torn last line %(n)d of journal %(path)s",
                    {"n": number, "path": path},
                )
            else:
                yield start, entry


def entry_at(fh: IO[bytes], offset: int) -> dict[str, Any]:
    """The entry whose line starts at ``offset`` of the open journal ``fh`` (from :func:`read_journal_offsets`)."""
    fh.seek(offset)
    entry = _parse(fh.readline())
    if entry is None:
        raise ManifestError(f"Journal {getattr(fh, 'name', '?')} changed while it was read (offset {offset})")
    return entry


def _entry_or_raise(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    entry = _parse(raw)
    if entry is None:
        raise ManifestError(
            f"Journal {path} line {number} is not a JSON object; "
            "only the last line may be torn, so the file was altered: restore it or drop that line"
        )
    return entry
