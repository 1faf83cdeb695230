"""Issue 7E: a full disk stops the run with a clear error, corrupts nothing, and a rerun resumes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.hostile.fixture import run_hostile_server
from tests.security.test_crash_safety import archived_keys, check_closed_warcs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: needs root (CI runs as root); skipped with the reason otherwise."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_disk_stops_cleanly_and_a_rerun_resumes(small_disk: Path, tmp_path: Path) -> None:
    with run_hostile_server() as base:
        urls = [f"{base}/incompressible?i={i}" for i in range(16)]
        links = "".join(f'<p>Blob {i} is <a href="{url}">here</a>.</p>' for i, url in enumerate(urls))
        post = tmp_path / "post.html"
        post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
        args = ["--allow-private", "--delay", "0.02", "-q"]
        out = small_disk / "out"
        full = run_cli(["archive", str(post), "--out", str(out), *args], tmp_path)
        assert full.returncode == 4, full.stdout + full.stderr
        assert "The disk is full" in full.stderr
        assert "Traceback" not in full.stderr
        collection = out / "collections" / "citations"
        assert not list((collection / "archive").glob("*.open"))
        check_closed_warcs(collection / "archive")
        (journal,) = (collection / "manifests").glob("*.journal.jsonl")
        done = archived_keys(journal)
        assert 0 < len(done) < len(urls)

        # Room again (here: the collection moved to a roomy disk): the same command finishes the run.
        roomy = tmp_path / "roomy"
        shutil.copytree(out, roomy)
        rerun = run_cli(["archive", str(post), "--out", str(roomy), *args], tmp_path)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        manifests = [p for p in (roomy / "collections" / "citations" / "manifests").glob("*.json")]
        (manifest,) = [json.loads(p.read_text()) for p in manifests]
        statuses = [c["capture"]["status"] for c in manifest["posts"][0]["citations"]]
        assert statuses == ["archived"] * len(urls)
        check_closed_warcs(roomy / "collections" / "citations" / "archive")
        print(f"\nDisk full: {len(done)} of {len(urls)} archived before the disk filled; the rerun finished the rest")
