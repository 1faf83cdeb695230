"""Hold a collection's lock around a crawl, so cron runs that overlap never write at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.collection import Collection
from archive.lock import CollectionLock


@contextmanager
def hold_collection_lock(out: Path, collection: str, wait: float = 0.0) -> Iterator[None]:
    """Raise :class:`archive.exceptions.LockedError` (exit code 6) when another run holds it past ``wait``."""
    lock = CollectionLock(Collection(out, collection).root, wait=wait)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
