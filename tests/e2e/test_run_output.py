"""What a run prints: the summary and what a person must act on; the crawl's whole log goes to its file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, CliRun, run_cli

COLLECTION = "output"


@pytest.fixture(scope="module")
def dns_server() -> Iterator[int]:
    """A real DNS server on 127.0.0.1 that knows no name (NXDOMAIN for all)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dnsserver", "{}"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        yield int(json.loads(process.stdout.readline())["port"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def archive(source: str, tmp_path: Path, *flags: str) -> tuple[CliRun, Path]:
    out = tmp_path / "out"
    args = ["archive", source, "--out", str(out), "--collection", COLLECTION, "--retries", "0", *flags]
    run = run_cli(args, tmp_path, timeout=120)
    assert run.violations == []
    return run, out / "collections" / COLLECTION


def run_log(collection: Path) -> tuple[str, Path]:
    """The run's log file, ``logs/RUN_ID.log`` (RUN_ID: its manifest's)."""
    (manifest,) = (collection / "manifests").glob("*.json")
    path = collection / "logs" / f"{manifest.stem}.log"
    assert path.is_file(), sorted(collection.rglob("*"))
    return path.read_text(encoding="utf-8"), path


def write_post(path: Path, urls: list[str], extra: str = "") -> str:
    links = "".join(f'<p>Source {i} is <a href="{url}">page {i}</a>.</p>' for i, url in enumerate(urls))
    path.write_text(f"<html><body><article>{links}{extra}</article></body></html>", encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------- an unreachable post: one line


@pytest.mark.parametrize("why", ["dns", "refused", "timeout"])
def test_an_unreachable_post_is_one_line_and_the_summary(why: str, mocksite: Any, dns_server: int, tmp_path: Path) -> None:
    flags: list[str] = ["--allow-private"]
    if why == "dns":
        url, flags, reason = "http://gone.test/2024/post.html", ["--dns-server", f"127.0.0.1:{dns_server}"], "DNS lookup failed: "
    elif why == "refused":
        url, reason = f"http://127.0.0.1:{closed_port()}/post.html", "connection refused"
    else:
        url, reason = f"{mocksite.sites}/slow.html?delay=4&output=1", "timed out: "
        flags += ["--timeout", "1"]
    run, collection = archive(url, tmp_path, *flags)
    assert run.returncode == 3, run.stdout + run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"citearchive: error: Cannot archive the post {url}: {reason}"), line
    for text in (run.stderr, run.stdout):
        assert "DNS lookup failed: DNS lookup failed" not in text
    assert f"  post failed: {reason}" in run.stdout
    log, path = run_log(collection)
    assert run.stdout.rstrip().splitlines()[-1].startswith(f"Log:       {path}")
    assert "[scrapy.core.engine] INFO: Spider opened" in log and "Dumping Scrapy stats" in log
    assert f"Cannot archive the post {url}" in log


def test_an_unreachable_post_with_processes_is_one_relayed_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/post.html"
    run, collection = archive(url, tmp_path, "--allow-private", "--processes", "2")
    assert run.returncode == 3, run.stdout + run.stderr
    started, error = run.stderr.splitlines()
    assert "2 crawl processes sharded by host" in started
    assert error.startswith(f"[p0] citearchive: error: Cannot archive the post {url}: connection refused"), error
    log, _ = run_log(collection)  # every process writes the run's one log, each line marked with its part
    assert "[p0] " in log and "[p1] " in log and "Wrote manifest" in log


# ----------------------------------------------------------------- a normal run: the log is in its file


@pytest.fixture(scope="module")
def post(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    sites = mocksite.sites
    return write_post(tmp_path_factory.mktemp("post") / "post.html", [f"{sites}/pages/plain.html", f"{sites}/missing.html"])


def test_a_default_run_prints_the_summary_and_no_crawl_log(post: str, tmp_path: Path) -> None:
    run, collection = archive(post, tmp_path, "--allow-private")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr == ""
    assert "Citations: 1 archived, 1 failed" in run.stdout
    log, path = run_log(collection)
    assert run.stdout.rstrip().splitlines()[-1].startswith(f"Log:       {path}")
    assert "[scrapy.core.engine] INFO: Spider opened" in log and "'downloader/request_count'" in log
    assert "DEBUG:" not in log


def test_verbose_shows_the_crawl_log_and_logs_debug(post: str, tmp_path: Path) -> None:
    run, collection = archive(post, tmp_path, "--allow-private", "-v")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "[scrapy.core.engine] INFO: Spider opened" in run.stderr
    assert "[scrapy.core.engine] DEBUG: Crawled (200)" in run.stderr
    log, _ = run_log(collection)
    assert "[scrapy.core.engine] DEBUG: Crawled (200)" in log


def test_quiet_prints_nothing_when_all_is_well(post: str, tmp_path: Path) -> None:
    run, collection = archive(post, tmp_path, "--allow-private", "-q")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    log, _ = run_log(collection)
    assert "Spider opened" in log


@pytest.mark.parametrize("processes", ["1", "2"])
def test_warnings_reach_a_non_terminal_one_line_each(processes: str, mocksite: Any, tmp_path: Path) -> None:
    """CI logs get citearchive's warnings, once: a local post with no base URL drops its relative link."""
    port = mocksite.sites.rsplit(":", 1)[1]
    urls = [f"{mocksite.sites}/pages/plain.html", f"http://localhost:{port}/pages/plain.html"]  # two hosts
    source = write_post(tmp_path / "post.html", urls, '<a href="/about">about</a>')
    run, collection = archive(source, tmp_path, "--allow-private", "--processes", processes)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stderr.splitlines()
    if processes == "2":  # each process reads the post; the one owning the posts warns
        assert "2 crawl processes sharded by host" in lines.pop(0)
    (line,) = lines
    prefix = "[p0] " if processes == "2" else ""
    assert line.startswith(f"{prefix}citearchive: warning: Dropped 1 relative link(s): no base URL"), line
    log, _ = run_log(collection)
    assert "[crawler.citations] WARNING: Dropped 1 relative link(s)" in log


# ----------------------------------------------------------------- --processes: never more than the work


def test_processes_are_not_forked_for_one_host(mocksite: Any, tmp_path: Path) -> None:
    source = write_post(tmp_path / "post.html", [f"{mocksite.sites}/pages/plain.html?one-host={i}" for i in range(3)])
    run, collection = archive(source, tmp_path, "--allow-private", "--processes", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.splitlines() == ["citearchive: --processes 2: the posts cite 1 host, so the crawl runs in this process"]
    (manifest,) = (collection / "manifests").glob("*.json")
    citations = json.loads(manifest.read_text(encoding="utf-8"))["posts"][0]["citations"]
    assert [c["capture"]["status"] for c in citations] == ["archived"] * 3
    assert not any("-p0-" in path.name for path in (collection / "archive").iterdir())  # no crawl process's WARC


def test_processes_are_not_forked_for_no_citation(tmp_path: Path) -> None:
    source = write_post(tmp_path / "post.html", [])
    run, collection = archive(source, tmp_path, "--processes", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.splitlines() == ["citearchive: --processes 2: the posts cite no host, so the crawl runs in this process"]
    assert "Citations: no citations" in run.stdout
