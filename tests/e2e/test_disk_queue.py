"""Pending requests past ARCHIVE_QUEUE_MEMORY wait in Scrapy's disk queues, in a directory gone when the run ends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import run_cli


def test_requests_past_the_memory_bound_wait_on_disk_and_the_directory_is_removed(mocksite: Any, tmp_path: Path) -> None:
    out, queues = tmp_path / "out", tmp_path / "queues"
    queues.mkdir()
    post_url = f"{mocksite.blog}/2024/01/sources.html"
    run = run_cli(
        ["archive", post_url, "--out", str(out), "--allow-private", "-v", "-s", f"ARCHIVE_QUEUE_DIR={queues}",
         "-s", "ARCHIVE_QUEUE_MEMORY=2",
         # The soft-404 probe's requests call back into a spider middleware: not picklable, they wait in memory.
         "-s", "ARCHIVE_SOFT404_PROBE=False"],
        tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    stats = {name: int(value) for name, value in re.findall(r"'(scheduler/\w+(?:/\w+)?)': (\d+)", run.stderr)}
    assert stats["scheduler/enqueued"] > 5, stats
    assert stats["scheduler/enqueued/disk"] >= stats["scheduler/enqueued"] // 2, stats
    assert stats["scheduler/enqueued/disk"] == stats["scheduler/dequeued/disk"], stats
    assert "scheduler/unserializable" not in stats
    assert list(queues.iterdir()) == []  # the run's own queue directory, removed at close
    (manifest,) = (out / "collections" / "citations" / "manifests").glob("*.json")
    statuses = {c["capture"]["status"] for p in json.loads(manifest.read_text())["posts"] for c in p["citations"]}
    assert "archived" in statuses
