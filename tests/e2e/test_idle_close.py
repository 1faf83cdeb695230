"""A crawl whose start() ends with items and no requests closes as soon as they are journalled.

Scrapy's engine would otherwise notice only at its next slot heartbeat (every 5 s). The
heartbeat is pushed out to an hour here, so the run finishes within the timeout only if
crawler.extensions.idlecheck does its job; no timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

_WITHOUT_HEARTBEAT = """
import runpy, sys
from scrapy.core.engine import ExecutionEngine
ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = 3600.0
sys.argv = ["tests.netguard", *sys.argv[1:]]
runpy.run_module("tests.netguard", run_name="__main__")
"""


def test_a_post_citing_nothing_closes_without_waiting_for_the_heartbeat(tmp_path: Path) -> None:
    post = tmp_path / "post.html"
    post.write_text("<html><body><article><p>Nothing is cited here.</p></article></body></html>", encoding="utf-8")
    violations = tmp_path / "violations.txt"
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_HEARTBEAT, str(violations), "--", "archive", str(post), "--out", str(out), "-q"],
        check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (manifest,) = (out / "collections" / "citations" / "manifests").glob("*.json")
    posts = json.loads(manifest.read_text(encoding="utf-8"))["posts"]
    assert len(posts) == 1 and posts[0]["citations"] == []
