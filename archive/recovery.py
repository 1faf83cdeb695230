"""Repair ``*.warc(.gz).open`` files left by a crashed run: cut the torn tail, rename."""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import IO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from archive.atomic import fsync_dir
from archive.exceptions import WarcWriteError

__all__ = ["OPEN_SUFFIX", "complete_records_end", "recover_open_files"]

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
_TRAILER = b"\r\n\r\n"  # every WARC record ends with two CRLFs (WARC 1.1 section 4)
_BUF = 1 << 16


def _drain(stream: IO[bytes]) -> int:
    total = 0
    while chunk := stream.read(_BUF):
        total += len(chunk)
    return total


def _member_is_whole(fh: IO[bytes], offset: int, length: int) -> bool:
    """True when bytes [offset, offset+length) are one complete gzip member ending a record."""
    fh.seek(offset)
    data = fh.read(length)
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        text = inflater.decompress(data) + inflater.flush()
    except zlib.error:
        return False
    return inflater.eof and not inflater.unused_data and text.endswith(_TRAILER)


def complete_records_end(path: Path, *, gzipped: bool) -> int:
    """Byte offset just past the last complete record of ``path`` (0 if there is none)."""
    spans: list[tuple[int, int]] = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, no_record_parse=True)
        try:
            for record in it:
                declared = record.rec_headers.get_header("Content-Length")
                got = _drain(record.raw_stream)
                if declared is None or got != int(declared):
                    break  # the block stops short: the torn record in flight
                spans.append((it.get_record_offset(), it.get_record_length()))
        except (
            ArchiveLoadFailed,
            StatusAndHeadersParserException,
            EOFError,
            ValueError,
            zlib.error,
        ) as exc:
            logger.info(
                "Stopped reading %(path)s at its torn tail: %(exc)s", {"path": path, "exc": exc}
            )
        finally:
            it.close()
    with path.open("rb") as fh:
        # Only the last record read can be torn (the ones before were followed
        # by a parseable record header), so check its ending and step back once.
        for offset, length in reversed(spans[-2:]):
            if gzipped and _member_is_whole(fh, offset, length):
                return offset + length
            if not gzipped:
                fh.seek(offset + length)
                if fh.read(len(_TRAILER)) == _TRAILER:
                    return offset + length + len(_TRAILER)
    return 0


def _recover_one(path: Path) -> str | None:
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    if final.exists():
        raise WarcWriteError(f"Cannot recover {path}: {final.name} already exists; move one aside")
    size = path.stat().st_size
    end = complete_records_end(path, gzipped=final.name.endswith(".gz"))
    if end == 0:
        logger.warning(
            "Removed %(path)s: no complete WARC record in its %(size)d bytes",
            {"path": path, "size": size},
        )
        path.unlink()
        return None
    if end < size:
        logger.warning(
            "Cut %(cut)d bytes of torn record from %(path)s (kept %(end)d bytes)",
            {"cut": size - end, "path": path, "end": end},
        )
        with path.open("r+b") as fh:
            fh.truncate(end)
            fh.flush()
            os.fsync(fh.fileno())
    os.rename(path, final)
    logger.info("Recovered %(name)s", {"name": final.name})
    return final.name


def recover_open_files(directory: Path) -> list[str]:
    """Repair every ``*.warc.gz.open`` / ``*.warc.open`` in ``directory``; return the final names.

    Each file is cut back to the end of its last complete record and renamed
    without ``.open``; a file holding no complete record is removed. Call it
    at the start of a run, before an :class:`~archive.writer.ArchiveWriter`
    opens the directory.
    """
    directory = Path(directory)
    recovered: list[str] = []
    candidates = sorted([*directory.glob("*.warc.gz.open"), *directory.glob("*.warc.open")])
    for path in candidates:
        try:
            name = _recover_one(path)
        except OSError as exc:
            raise WarcWriteError(f"Cannot recover {path}: {exc}; check its permissions") from exc
        if name:
            recovered.append(name)
    if candidates:
        fsync_dir(directory)
    return recovered
