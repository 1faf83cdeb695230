"""Timeouts, size caps, retries and proxies, on real crawls of the mock site."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.conftest import run_cli


def write_post(path: Path, urls: list[str]) -> Path:
    links = "\n".join(f'<p>Source {i} is <a href="{url}">this page</a>.</p>' for i, url in enumerate(urls))
    path.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    return path


def manifest_citations(out: Path) -> dict[str, dict[str, Any]]:
    (path,) = (out / "collections" / "citations" / "manifests").glob("*.json")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return {c["url"]: c["capture"] for post in manifest["posts"] for c in post["citations"]}


def test_timeout_size_cap_and_retries(mocksite: Any, tmp_path: Path) -> None:
    sites = mocksite.sites
    slow, pdf, error = f"{sites}/slow.html?delay=5", f"{sites}/doc.pdf", f"{sites}/error.html?limits=1"
    post = write_post(tmp_path / "post.html", [slow, pdf, error])
    out = tmp_path / "out"
    args = ["archive", str(post), "--out", str(out), "--allow-private"]
    run = run_cli([*args, "--timeout", "1", "--max-size", "0.0005", "--retries", "1"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    captures = manifest_citations(out)
    assert captures[slow]["status"] == "failed"
    assert captures[slow]["reason"].startswith("timed out")
    assert captures[pdf]["status"] == "failed"
    assert captures[pdf]["reason"].startswith("too large")
    # A 5xx is retried (once here), and every attempt is stored as evidence.
    assert captures[error]["status"] == "failed"
    assert [hop["http_status"] for hop in captures[error]["hops"]] == [500, 500]


def test_http_proxy_is_honoured_and_no_proxy_bypasses_it(mocksite: Any, tmp_path: Path) -> None:
    target = f"{mocksite.sites}/pages/plain.html?via-proxy=1"
    post = write_post(tmp_path / "post.html", [target])
    # The blog server stands in for a forward proxy: it records the absolute-form target.
    env = {**os.environ, "http_proxy": mocksite.blog, "no_proxy": ""}
    run = run_cli(["archive", str(post), "--out", str(tmp_path / "a"), "--allow-private"], tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert any(r["target"] == target for r in mocksite.received("blog"))
    assert not any("via-proxy" in r["target"] for r in mocksite.received("sites"))

    env["no_proxy"] = "127.0.0.1"
    run = run_cli(["archive", str(post), "--out", str(tmp_path / "b"), "--allow-private"], tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert any("via-proxy" in r["target"] for r in mocksite.received("sites"))
    assert manifest_citations(tmp_path / "b")[target]["status"] == "archived"


def test_demo_command_archives_the_sample_post(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = run_cli(["demo", "--out", str(out)], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.violations == []
    (path,) = (out / "collections" / "citations" / "manifests").glob("*.json")
    (post,) = json.loads(path.read_text(encoding="utf-8"))["posts"]
    statuses = [c["capture"]["status"] for c in post["citations"]]
    assert statuses.count("failed") == 1 and statuses.count("archived") == len(statuses) - 1
    assert any(len(c["capture"]["hops"]) == 2 for c in post["citations"])  # the 301
    assert "å" in post["title"] or "Å" in post["title"]
    assert "wayback -d" in run.stdout
