"""The progress line of a sharded run, counted from the crawl processes' journals as they grow."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

from crawler.processprogress import JournalProgress


def line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry).encode() + b"\n"


def test_lines_are_counted_once_complete_from_every_process(tmp_path: Path) -> None:
    p0, p1 = tmp_path / "run.p0.journal.jsonl", tmp_path / "run.p1.journal.jsonl"
    (tmp_path / "run.journal.jsonl").write_bytes(line({"kind": "capture", "capture": {"status": "archived"}}))  # not ours
    (tmp_path / "other.p0.journal.jsonl").write_bytes(line({"kind": "capture", "capture": {"status": "archived"}}))
    stream = io.StringIO()
    progress = JournalProgress(tmp_path, "run", stream, threading.RLock())
    assert not progress.poll()
    post = {"kind": "post", "citations": [{"key": "a"}, {"key": "b"}, {"key": "a"}, {"key": "c"}]}
    archived = line({"kind": "capture", "key": "a", "capture": {"status": "archived"}})
    p0.write_bytes(line(post) + archived + archived[:10])  # the last line is being written
    p1.write_bytes(line({"kind": "requisites", "parent": "b", "found": []}))
    assert progress.poll()
    progress.draw()
    assert stream.getvalue().split("\r")[-1] == "\x1b[Kposts 1 · URLs 1/3 · archived 1"
    with p0.open("ab") as fh:
        fh.write(archived[10:])
    with p1.open("ab") as fh:
        fh.write(line({"kind": "capture", "key": "b", "capture": {"status": "failed"}}))
    assert progress.poll() and not progress.poll()
    progress.stop()
    assert stream.getvalue().endswith("\x1b[Kposts 1 · URLs 3/3 · archived 2 failed 1\n")
