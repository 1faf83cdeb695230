"""A crawl records failed requisites, stops at one level of frames and an @import loop, and obeys --no-requisites."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import CliRun, run_cli
from tests.mocksite.render import BROKEN_POST_PATH, RENDER_POST_PATH


def crawl(mocksite: Any, tmp_path: Path, post: str, *flags: str) -> tuple[CliRun, dict[str, Any], Counter[str]]:
    before = len(mocksite.received("sites"))
    out = tmp_path / "out"
    run = run_cli(["archive", mocksite.blog + post, "--out", str(out), "--allow-private", *flags], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.violations == []
    hits = Counter(entry["target"] for entry in mocksite.received("sites")[before:])
    # RUN_ID.json only: other files (RUN_ID.run.json, …) may sit next to the manifest.
    (path,) = [p for p in (out / "collections" / "citations" / "manifests").glob("*.json") if p.name.count(".") == 1]
    return run, json.loads(path.read_text(encoding="utf-8")), hits


def test_failed_requisites_are_listed_and_frames_stop_at_one_level(mocksite: Any, tmp_path: Path) -> None:
    _, manifest, hits = crawl(mocksite, tmp_path, BROKEN_POST_PATH)
    (citation,) = manifest["posts"][0]["citations"]
    assert citation["capture"]["status"] == "archived"  # a missing image does not fail the citation
    # loop-a.css, loop-b.css, level1.html and its image; missing.png failed.
    assert citation["requisites"] == {
        "archived": 4,
        "failed": [{"url": mocksite.sites + "/render/img/missing.png", "reason": "the server answered HTTP 404 Not Found"}],
    }
    assert hits["/render/level1.html"] == 1 and hits["/render/img/level1.png"] == 1
    assert hits["/render/level2.html"] == 0  # the frame's own frame is not followed
    assert hits["/render/css/loop-a.css"] == 1 and hits["/render/css/loop-b.css"] == 1
    assert len(manifest["posts"][0]["citations"]) == 1  # requisites never become citations


def test_no_requisites_archives_the_pages_alone(mocksite: Any, tmp_path: Path) -> None:
    _, manifest, hits = crawl(mocksite, tmp_path, RENDER_POST_PATH, "--no-requisites")
    citations = manifest["posts"][0]["citations"]
    assert [c["capture"]["status"] for c in citations] == ["archived"] * 3
    assert all("requisites" not in c for c in citations)
    fetched = {target for target in hits if "probe" not in target and target != "/robots.txt"}
    assert fetched == {"/render/images.html", "/render/styles.html", "/render/frame.html"}
