"""Crash-safe file replacement: temp file in the same directory, fsync, os.replace."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_open_text", "atomic_write_bytes", "atomic_write_text", "fsync_dir"]


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename or a new file) to disk; a no-op where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename still happened
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: Path) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for writing; on success it replaces ``path`` atomically.

    Readers see the old file or the new one, never a torn one: the data is
    flushed and fsynced before ``os.replace``, and the directory after it. On
    an exception the temp file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; keep the old file's mode, or the usual 0644.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextmanager
def atomic_open_text(path: Path, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """:func:`atomic_open` as text (``\\n`` newlines), encoded as it is written: never the whole text in memory."""
    with atomic_open(path) as raw:
        out = io.TextIOWrapper(raw, encoding=encoding, newline="\n")
        try:
            yield out
        finally:
            out.detach()  # flushed; atomic_open fsyncs and closes the file (or drops it on an error)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a torn one."""
    with atomic_open(path) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Text flavour of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding))
