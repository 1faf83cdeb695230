"""A crawl process's private directory for its disk queues, and the sweep of those left by killed processes."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PREFIX = "citearchive-queue-"
OWNER_LOCK = "owner.lock"
#: A directory without an owner lock is swept only when older than this: it may be one
#: another process has just created and not yet locked (or one from an older release).
UNLOCKED_GRACE = 3600.0


class QueueDirectory:
    """A fresh directory, flock-ed by this process for as long as it lives.

    A process killed with SIGKILL cannot remove its directory, but the kernel
    releases its lock; the next crawl that creates a queue directory in the same
    place removes every directory whose lock it can take (:func:`sweep_abandoned`).
    """

    def __init__(self, parent: str | None = None):
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        # Locked under another name, then renamed: a sweeping process never sees the lock file unlocked.
        unlocked = self.path / f".{OWNER_LOCK}"
        self._lock_fd: int | None = os.open(unlocked, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        unlocked.rename(self.path / OWNER_LOCK)
        sweep_abandoned(self.path.parent, keep=self.path)

    def remove(self) -> None:
        """Delete the directory and its queues (idempotent)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def sweep_abandoned(parent: Path, keep: Path | None = None) -> list[Path]:
    """Remove the queue directories under ``parent`` whose owning process is gone; return them."""
    removed: list[Path] = []
    for candidate in parent.glob(f"{PREFIX}*"):
        if candidate == keep or not candidate.is_dir():
            continue
        if _abandoned(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    if removed:
        logger.info("Removed %(n)d queue directories left by killed crawls in %(parent)s", {"n": len(removed), "parent": parent})
    return removed


def _abandoned(directory: Path) -> bool:
    try:
        fd = os.open(directory / OWNER_LOCK, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - directory.stat().st_mtime > UNLOCKED_GRACE
        return False
    except OSError:
        return False  # not ours to judge (permissions)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its process is alive
    finally:
        os.close(fd)  # closing releases a lock we took: the directory is removed right after
    return True
