"""The progress line of `archive --processes N`, drawn by the parent from the crawl processes' journals."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from crawler.extensions.progress import progress_line

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["JournalProgress"]


class JournalProgress:
    """Redraws the single-process progress line (crawler/extensions/progress.py) for a sharded run.

    The parent never crawls, so it has no items to count; each crawl process
    journals its items as they land (``RUN_ID.pI.journal.jsonl``, shard 0 the
    posts), and a thread of the parent reads what was appended to those files
    every ``interval`` seconds. Lines are counted once complete (a line being
    written is read on the next poll). Drawing takes ``lock``, the one the
    processes' relayed log lines are written under.
    """

    def __init__(self, manifests_dir: Path, run_id: str, stream: TextIO, lock: Any, interval: float = 0.5):
        self.manifests_dir = manifests_dir
        self.pattern = f"{run_id}.p*.journal.jsonl"
        self.stream = stream
        self.lock = lock
        self.interval = interval
        self.posts = 0
        self.expected = 0
        self.statuses: Counter[str] = Counter()
        self._read: dict[Path, int] = {}  # bytes of each journal already counted
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> bool:
        """Count the lines appended since the last poll; True if any was."""
        changed = False
        for path in sorted(self.manifests_dir.glob(self.pattern)):
            start = self._read.get(path, 0)
            try:
                with path.open("rb") as fh:
                    fh.seek(start)
                    data = fh.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            if end == 0:
                continue
            self._read[path] = start + end
            for line in data[:end].splitlines():
                changed = self._count(line) or changed
        return changed

    def _count(self, line: bytes) -> bool:
        try:
            entry = json.loads(line)
        except ValueError:
            return False
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind == "post":
            self.posts += 1
            citations = entry.get("citations") or []
            self.expected += len({citation.get("key") for citation in citations if "capture" not in citation})
        elif kind == "capture":
            self.statuses[str((entry.get("capture") or {}).get("status"))] += 1
        else:
            return False
        return True

    def draw(self) -> None:
        with self.lock:
            self.stream.write(f"\r\x1b[K{progress_line(self.posts, self.expected, self.statuses)}")
            self.stream.flush()

    def start(self) -> None:
        self.draw()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.poll():
                self.draw()

    def stop(self) -> None:
        """Stop polling, count what the processes wrote last, and end the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        self.draw()
        with self.lock:
            self.stream.write("\n")
            self.stream.flush()
