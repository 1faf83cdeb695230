"""One writer per collection: an advisory lock file held for the whole run (fcntl.flock)."""

from __future__ import annotations

import fcntl
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from archive.exceptions import LockedError

__all__ = ["LOCK_NAME", "CollectionLock"]

LOCK_NAME = ".citearchive.lock"


class CollectionLock:
    """``flock`` on ``ROOT/.citearchive.lock``; the kernel drops it when the process dies.

    :meth:`acquire` waits up to ``wait`` seconds (0: fail at once) and raises
    :class:`LockedError` naming the holder. The lock is per open file, so a
    process must take it once (the CLI tells its crawl it holds it).
    """

    def __init__(self, root: Path, wait: float = 0.0, poll: float = 0.2) -> None:
        self.path = Path(root) / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self._fh: IO[str] | None = None

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise LockedError(
                        f"the collection {self.path.parent.name!r} is being written by another run "
                        f"({self._holder()}); try again when it ends, or wait for it with --wait SECONDS"
                    ) from None
                time.sleep(self.poll)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()

    @property
    def held(self) -> bool:
        return self._fh is not None

    def __enter__(self) -> CollectionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
