"""Deploy the Scrapy project to a real scrapyd on loopback, schedule the spider, wait for its manifest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crawler.demo import POST_PATH, POST_SITE, demo_sites
from tests.conftest import REPO_ROOT
from tests.wayback import free_port

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(not (BIN / "scrapyd").exists(), reason="scrapyd is not installed (test extra)")


def _post(url: str, fields: dict[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
    data = urllib.parse.urlencode(fields).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    with opener.open(urllib.request.Request(url, data=data), timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _get(url: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _project_copy(tmp: Path, scrapyd_url: str) -> Path:
    """The deployable files in a temporary copy: the egg build leaves nothing in the tree."""
    copy = tmp / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("crawler", "archive"):
        shutil.copytree(REPO_ROOT / package, copy / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, copy / name)
    config = (REPO_ROOT / "scrapy.cfg").read_text(encoding="utf-8")
    (copy / "scrapy.cfg").write_text(config.replace("http://localhost:6800/", scrapyd_url), encoding="utf-8")
    return copy


def _wait_for_manifest(manifests: Path, home: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while not list(manifests.glob("*.json")):
        assert time.monotonic() < deadline, (home / "scrapyd.err").read_text()[-2000:]
        time.sleep(0.5)
    (path,) = manifests.glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_scrapyd_runs_the_spider_with_arguments(mocksite: Any, tmp_path: Path) -> None:
    before = sorted(p.name for p in REPO_ROOT.iterdir())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\npoll_interval = 0.5\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n",
        encoding="utf-8",
    )
    scrapyd = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.DEVNULL,
                               stderr=(home / "scrapyd.err").open("wb"), stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _get(f"{base}/daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                if time.monotonic() > deadline or scrapyd.poll() is not None:
                    raise RuntimeError((home / "scrapyd.err").read_text()[-2000:]) from None
                time.sleep(0.3)
        project = _project_copy(tmp_path, base + "/")
        deploy = subprocess.run([str(BIN / "scrapyd-deploy")], cwd=project, capture_output=True, text=True, timeout=180)
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert "citations" in _get(f"{base}/listspiders.json?project=citearchive")["spiders"]

        out = tmp_path / "out"
        job = _post(f"{base}/schedule.json", [
            ("project", "citearchive"), ("spider", "citations"),
            ("sources", mocksite.loopback_post_url), ("out", str(out)), ("collection", "sched"),
            ("include_internal", "true"), ("setting", "ARCHIVE_ALLOW_PRIVATE=True"),
        ])
        assert job["status"] == "ok", job
        manifest = _wait_for_manifest(out / "collections" / "sched" / "manifests", home)
        (post,) = manifest["posts"]
        assert post["source"] == mocksite.loopback_post_url
        assert [c["capture"]["status"] for c in post["citations"]] == ["archived"]
        assert list((out / "collections" / "sched" / "archive").glob("*.warc.gz"))
        # A scheduled job archives the post page's own requisites too (the demo post has four).
        with demo_sites() as sites:
            job = _post(f"{base}/schedule.json", [
                ("project", "citearchive"), ("spider", "citations"), ("sources", sites.url(POST_SITE, POST_PATH)),
                ("out", str(out)), ("collection", "demo"), ("setting", "ARCHIVE_ALLOW_PRIVATE=True"),
            ])  # fmt: skip
            assert job["status"] == "ok", job
            manifest = _wait_for_manifest(out / "collections" / "demo" / "manifests", home)
        assert manifest["posts"][0]["requisites"] == {"archived": 4, "failed": []}
    finally:
        scrapyd.terminate()
        try:
            scrapyd.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scrapyd.kill()
            scrapyd.wait()
    assert sorted(p.name for p in REPO_ROOT.iterdir()) == before, "deploying left files in the tree"
