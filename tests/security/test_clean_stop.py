"""Issue 7E: SIGINT and SIGTERM stop a run cleanly: every record written is in the manifest, and a rerun resumes."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import run_cli
from tests.security.test_crash_safety import check_closed_warcs, cli_args, start

PAGES = 60


def write_post(path: Path, sites: str, tag: str) -> None:
    links = "".join(
        f'<p>Source {i} is <a href="{sites}/slow.html?delay=0.1&amp;{tag}={i}">page {i}</a>.</p>' for i in range(PAGES)
    )
    path.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")


def response_targets(archive_dir: Path) -> set[str]:
    targets = set()
    for path in archive_dir.glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    targets.add(record.rec_headers["WARC-Target-URI"])
    return targets


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_with_nothing_lost(mocksite: Any, tmp_path: Path, signum: int) -> None:
    tag = f"stop{int(signum)}"
    post, out = tmp_path / "post.html", tmp_path / "out"
    write_post(post, mocksite.sites, tag)
    process = start(cli_args(post, out), tmp_path / "run.log")
    time.sleep(3.5)
    process.send_signal(signum)
    assert process.wait(timeout=60) == 128 + signum, (tmp_path / "run.log").read_text()[-3000:]  # 130, 143
    collection = out / "collections" / "citations"
    assert not list((collection / "archive").glob("*.open"))
    check_closed_warcs(collection / "archive")
    (manifest_path,) = (collection / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    captured = {
        hop["url"] for p in manifest["posts"] for c in p["citations"] for hop in (c["capture"].get("hops") or [])
    }
    in_warc = {url for url in response_targets(collection / "archive") if tag in url}
    assert in_warc and in_warc <= captured, in_warc - captured  # 0 records lost to the manifest
    statuses = [c["capture"]["status"] for p in manifest["posts"] for c in p["citations"]]
    assert 0 < statuses.count("archived") < PAGES

    rerun = run_cli(cli_args(post, out), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert [c["capture"]["status"] for c in manifest["posts"][0]["citations"]] == ["archived"] * PAGES
    print(f"\nClean stop on signal {int(signum)}: {len(in_warc)} records, all in the manifest; the rerun completed it")
