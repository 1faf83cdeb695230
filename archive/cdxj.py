"""The collection's CDXJ index: SURT-keyed ``urlkey timestamp {json}`` lines, as pywb reads them."""

from __future__ import annotations

import heapq
import io
import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import surt
from cdxj_indexer.main import CDXJIndexer

from archive.atomic import atomic_open
from archive.exceptions import IndexLookupError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = ["index_warc_files", "lookup", "merge_into_index", "url_key"]


def url_key(url: str) -> str:
    """SURT sort key of ``url``, as cdxj_indexer and pywb compute it."""
    return str(surt.surt(url))


class _Indexer(CDXJIndexer):  # type: ignore[misc]  # untyped third-party base
    """cdxj_indexer's CDXJIndexer, keeping its record iterator so an error can say where it happened."""

    record_iter: Any = None

    def _create_record_iter(self, input_: Any) -> Any:
        self.record_iter = super()._create_record_iter(input_)
        return self.record_iter

    def failed_at(self) -> int | None:
        """Offset of the record being read when indexing failed (its gzip member's, if compressed)."""
        offset = getattr(self.record_iter, "offset", None)
        return offset if isinstance(offset, int) else None


def index_warc_files(archive_dir: Path, names: Iterable[str]) -> list[str]:
    """CDXJ lines (sorted, no trailing newline) for the WARCs ``names`` in ``archive_dir``.

    Uses cdxj_indexer's defaults (response, revisit, resource and metadata
    records; ``url mime status digest length offset filename`` fields) so the
    lines are exactly what ``cdxj-indexer --dir-root archive_dir`` writes;
    ``filename`` is relative to ``archive_dir``.
    """
    archive_dir = Path(archive_dir)
    lines: list[str] = []
    for name in names:
        out = io.StringIO()
        # What cdxj_indexer.main.write_cdx_index(out, [path], {"dir_root": ...}) does.
        indexer = _Indexer(out, [str(archive_dir / name)], dir_root=str(archive_dir))
        try:
            indexer.process_all()
        except Exception as exc:
            # AttributeError, ValueError, ArchiveLoadFailed... on malformed records: all re-raised, wrapped.
            offset = indexer.failed_at()
            where = f" (the record at offset {offset})" if offset is not None else ""
            raise IndexLookupError(
                f"Cannot index {name}{where}: {exc}; check it with `warcio check {archive_dir / name}`"
            ) from exc
        lines.extend(line for line in out.getvalue().splitlines() if line)
    return sorted(set(lines))


def _read_lines(fh: IO[str]) -> Iterator[str]:
    for line in fh:
        line = line.rstrip("\r\n")
        if line:
            yield line


def merge_into_index(index_path: Path, new_lines: Iterable[str]) -> int:
    """Merge ``new_lines`` into the sorted index at ``index_path``; return its line count.

    A streaming merge (:func:`heapq.merge`) of the existing file with the
    sorted new lines, dropping exact duplicates; the result replaces the file
    atomically, so a crash leaves the old index or the new one.
    """
    index_path = Path(index_path)
    fresh = sorted({line.rstrip("\r\n") for line in new_lines} - {""})
    count = 0
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        existing: IO[str] = (
            index_path.open("r", encoding="utf-8") if index_path.exists() else io.StringIO()
        )
        # The old file is closed before atomic_open replaces it.
        with atomic_open(index_path) as out, existing:
            previous: str | None = None
            for line in heapq.merge(_read_lines(existing), fresh):
                if line == previous:
                    continue
                out.write(line.encode("utf-8") + b"\n")
                previous = line
                count += 1
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexLookupError(f"Cannot update the index {index_path}: {exc}") from exc
    return count


def _line_start_at_or_after(fh: IO[bytes], pos: int) -> int:
    """Offset of the first line starting at or after ``pos``."""
    if pos == 0:
        return 0
    fh.seek(pos - 1)
    fh.readline()
    return fh.tell()


def _first_at_or_after(fh: IO[bytes], key: bytes, size: int) -> int:
    """Offset of the first line ``>= key`` (``size`` if none), by binary search on byte offsets."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        start = _line_start_at_or_after(fh, mid)
        fh.seek(start)
        line = fh.readline()
        if start >= size or line.rstrip(b"\r\n") >= key:
            hi = mid
        else:
            lo = mid + 1
    return _line_start_at_or_after(fh, lo)


def lookup(index_path: Path, url: str) -> list[dict[str, Any]]:
    """Index entries whose SURT key equals that of ``url``, oldest first.

    Binary search over byte offsets of the sorted file (as pywb's
    ``binsearch`` does): O(log n) seeks, then a scan of the matching lines.
    Each entry is the line's JSON plus ``urlkey`` and ``timestamp``.
    """
    index_path = Path(index_path)
    key = url_key(url)
    prefix = key.encode("utf-8") + b" "
    entries: list[dict[str, Any]] = []
    try:
        with index_path.open("rb") as fh:
            size = fh.seek(0, io.SEEK_END)
            fh.seek(_first_at_or_after(fh, prefix, size))
            for raw in fh:
                if not raw.startswith(prefix):
                    break
                urlkey, timestamp, data = raw.decode("utf-8").rstrip("\r\n").split(" ", 2)
                fields = json.loads(data)
                if not isinstance(fields, dict):
                    raise ValueError(f"expected a JSON object, got {data!r}")
                entries.append({"urlkey": urlkey, "timestamp": timestamp, **fields})
    except (OSError, ValueError) as exc:
        raise IndexLookupError(f"Cannot look up {url} in {index_path}: {exc}") from exc
    return entries
