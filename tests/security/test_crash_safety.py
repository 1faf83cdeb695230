"""Issue 7E: runs killed with SIGKILL at random moments lose at most the record in flight, and resume.

``CITEARCHIVE_CRASH_RUNS`` sets how many kills (default 50; more for a soak run).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.manifest import read_journal
from tests.conftest import REPO_ROOT, run_cli

KILLS = int(os.environ.get("CITEARCHIVE_CRASH_RUNS", "50"))
PAGES = 400


def write_post(path: Path, sites: str) -> None:
    links = "".join(
        f'<p>Source {i} is <a href="{sites}/slow.html?delay=0.15&amp;crash={i}">page {i}</a>.</p>' for i in range(PAGES)
    )
    path.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")


def cli_args(post: Path, out: Path) -> list[str]:
    return ["archive", str(post), "--out", str(out), "--allow-private", "--delay", "0.02", "-q", "--retries", "0"]


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", *args], cwd=REPO_ROOT, stdout=stream, stderr=stream,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip


def complete_records(path: Path) -> int:
    """Records a reader can take whole from a file, stopping at the first torn one."""
    count = 0
    with path.open("rb") as stream:
        try:
            for record in ArchiveIterator(stream):
                record.content_stream().read()
                count += 1
        except Exception:  # a torn tail: that is what recovery cuts off
            pass
    return count


def check_closed_warcs(archive_dir: Path) -> None:
    from warcio.checker import Checker

    for path in archive_dir.glob("*.warc.gz"):
        gzip.decompress(path.read_bytes())  # gzip -t
        checker = Checker(type("Args", (), {"inputs": [str(path)], "verbose": False})())
        checker.process_all()
        assert checker.exit_value == 0, path


def archived_keys(journal: Path) -> set[str]:
    if not journal.exists():
        return set()
    return {e["key"] for e in read_journal(journal) if e.get("kind") == "capture" and e["capture"]["status"] == "archived"}


def crawl_counts(mocksite: Any) -> Counter[str]:
    return Counter(r["target"] for r in mocksite.received("sites") if "crash=" in r["target"])


def test_sigkill_at_random_moments_then_resume(mocksite: Any, tmp_path: Path) -> None:
    seed = int(os.environ.get("CITEARCHIVE_CRASH_SEED", str(time.time_ns() % 10**6)))
    rng = random.Random(seed)
    post, out, log = tmp_path / "post.html", tmp_path / "out", tmp_path / "runs.log"
    write_post(post, mocksite.sites)
    collection = out / "collections" / "citations"
    first_archived_at: dict[str, int] = {}
    counts_at_kill: list[Counter[str]] = []
    left_open: dict[str, int] = {}  # .open file → complete records in it when its run was killed
    for kill in range(KILLS):
        process = start(cli_args(post, out), log)
        time.sleep(rng.uniform(0.6, 2.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path in (collection / "archive").glob("*.open"):
            left_open.setdefault(path.name, complete_records(path))
        check_closed_warcs(collection / "archive")
        journals = list((collection / "manifests").glob("*.journal.jsonl"))
        assert len(journals) <= 1, "a killed run must be resumed, not restarted"
        counts_at_kill.append(crawl_counts(mocksite))
        for key in archived_keys(journals[0]) if journals else set():
            first_archived_at.setdefault(key, kill)

    final = run_cli(cli_args(post, out), tmp_path)
    assert final.returncode == 0, final.stderr[-3000:]
    (manifest_path,) = (collection / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    statuses = Counter(c["capture"]["status"] for p in manifest["posts"] for c in p["citations"])
    assert statuses == {"archived": PAGES}, statuses
    check_closed_warcs(collection / "archive")
    assert not list((collection / "archive").glob("*.open"))
    for name, records in left_open.items():
        # A later run cut the torn tail off and closed the file: every complete record kept.
        closed = collection / "archive" / name.removesuffix(".open")
        if records == 0:
            assert not closed.exists() or complete_records(closed) == 0
        else:
            assert complete_records(closed) == records, name
    open_files_recovered = len(left_open)

    final_counts = crawl_counts(mocksite)
    refetched = []
    for citation in manifest["posts"][0]["citations"]:
        target = citation["url"].split(mocksite.sites, 1)[1].replace("&amp;", "&")
        kill = first_archived_at.get(citation["url"])
        if kill is not None and final_counts[target] != counts_at_kill[kill][target]:
            refetched.append(target)
    print(
        f"\nCrash safety (seed {seed}): {KILLS} SIGKILLs, {len(first_archived_at)} citations archived before the "
        f"last kill, {open_files_recovered} open WARCs recovered, {len(refetched)} re-fetches of archived citations"
    )
    assert refetched == []
    assert len(first_archived_at) > 0 and open_files_recovered > 0
