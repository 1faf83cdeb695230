"""`citearchive archive --processes N`: N crawl processes, one shard each, merged into one run."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.manifest import load_schema, read_journal
from crawler.shards import shard_of
from tests.browser import CHROMIUM
from tests.conftest import REPO_ROOT, CliRun, run_cli
from tests.mocksite import jspages
from tests.security.test_crash_safety import check_closed_warcs, start

COLLECTION = "shards"
PIDS = re.compile(r"crawl processes sharded by \w+ \(pids ([\d, ]+)\)")


@dataclass
class Archived:
    cli: CliRun
    out: Path

    @property
    def collection(self) -> Path:
        return self.out / "collections" / COLLECTION

    @property
    def manifest(self) -> dict[str, Any]:
        (path,) = (self.collection / "manifests").glob("*.json")
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    def citations(self) -> list[dict[str, Any]]:
        return [c for post in self.manifest["posts"] for c in post["citations"]]

    def responses(self) -> Counter[str]:
        return responses(self.collection)


def responses(collection: Path) -> Counter[str]:
    """Response records per target URI, over every WARC file of the collection."""
    counts: Counter[str] = Counter()
    for path in (collection / "archive").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("response", "revisit"):
                    counts[record.rec_headers["WARC-Target-URI"]] += 1
    return counts


def archive(post: str, tmp_path: Path, name: str, *flags: str) -> Archived:
    out = tmp_path / name
    cli = run_cli(["archive", post, "--out", str(out), "--collection", COLLECTION, "--allow-private", *flags], tmp_path)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert cli.violations == []
    return Archived(cli, out)


def part_of(warc_file: str) -> str:
    """``p0`` from ``citearchive-RUN_ID-p0-TIMESTAMP-SERIAL.warc.gz``."""
    match = re.search(r"-(p\d+)-\d{20}-\d{5}\.warc", warc_file)
    assert match, warc_file
    return match.group(1)


def comparable(citation: dict[str, Any]) -> tuple[Any, ...]:
    capture = citation["capture"]
    return (
        citation["n"], citation["url"], citation["anchor_text"], capture["status"], capture["http_status"],
        capture["final_url"], capture["reason"], capture["mime"], capture["payload_digest"],
        [(hop["url"], hop["http_status"]) for hop in capture.get("hops") or []],
        citation.get("requisites"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Archived, Archived]:
    """The mock blog's post archived by one process, then by two (sharded by URL: one host serves it all)."""
    tmp = tmp_path_factory.mktemp("processes")
    single = archive(mocksite.post_url, tmp, "single")
    double = archive(mocksite.post_url, tmp, "double", "--processes", "2", "--shard-by", "url")
    return single, double


def test_two_processes_archive_what_one_does(runs: tuple[Archived, Archived], mocksite: Any) -> None:
    single, double = runs
    jsonschema.validate(double.manifest, load_schema())
    assert [comparable(c) for c in double.citations()] == [comparable(c) for c in single.citations()]
    assert len(double.manifest["posts"]) == 1
    assert double.manifest["posts"][0]["snapshot"]["status"] == "archived"
    # Every citation (each hop of it) was fetched and stored as often as by one process: once.
    one, two = single.responses(), double.responses()
    hop_urls = {hop["url"] for c in single.citations() for hop in c["capture"].get("hops") or []}
    assert hop_urls and {url: two[url] for url in hop_urls} == {url: one[url] for url in hop_urls}
    assert two[mocksite.post_url] == one[mocksite.post_url] == 1  # only shard 0 archives the post
    snapshot = double.manifest["posts"][0]["snapshot"]  # and only its post entry is journalled
    with (double.collection / "archive" / snapshot["warc_file"]).open("rb") as stream:
        stream.seek(snapshot["offset"])
        record = next(iter(ArchiveIterator(stream)))
        assert (record.rec_type, record.rec_headers["WARC-Target-URI"]) == ("response", mocksite.post_url)
    assert part_of(snapshot["warc_file"]) == "p0"
    summary = [line for line in double.cli.stdout.splitlines() if line.startswith("Citations:")]
    assert summary == [line for line in single.cli.stdout.splitlines() if line.startswith("Citations:")]


def test_both_processes_did_work_and_left_nothing_staged(runs: tuple[Archived, Archived]) -> None:
    _, double = runs
    warcs = sorted(path.name for path in (double.collection / "archive").iterdir())
    assert {part_of(name) for name in warcs} == {"p0", "p1"}, warcs
    parts = Counter(part_of(c["capture"]["warc_file"]) for c in double.citations() if c["capture"]["warc_file"])
    assert parts["p0"] > 0 and parts["p1"] > 0, parts
    assert not (double.out / "processes").exists()
    manifests = sorted(path.name for path in (double.collection / "manifests").iterdir())
    run_id = double.manifest["run_id"]
    assert manifests == [f"{run_id}.journal.jsonl", f"{run_id}.json", f"{run_id}.run"]
    assert PIDS.search(double.cli.stderr)
    check_closed_warcs(double.collection / "archive")


def test_index_lines_point_at_real_records(runs: tuple[Archived, Archived]) -> None:
    _, double = runs
    lines = (double.collection / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    located = set()
    for line in lines:
        fields = json.loads(line.split(" ", 2)[2])
        with (double.collection / "archive" / fields["filename"]).open("rb") as stream:
            stream.seek(int(fields["offset"]))
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_headers["WARC-Target-URI"] == fields["url"]
        located.add((fields["filename"], int(fields["offset"])))
    for citation in double.citations():
        capture = citation["capture"]
        if capture["warc_file"]:
            assert (capture["warc_file"], capture["offset"]) in located, citation["url"]


def write_post(path: Path, urls: list[str]) -> None:
    links = "".join(f'<p>Source {i} is <a href="{url}">page {i}</a>.</p>' for i, url in enumerate(urls))
    path.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")


def host_header(request: dict[str, Any]) -> str:
    return next(value for name, value in request["headers"] if name.lower() == "host").split(":")[0]


def test_a_hosts_citations_stay_in_one_process(mocksite: Any, tmp_path: Path) -> None:
    """By default a host belongs to one process, so its politeness limits hold across processes."""
    hosts = [f"{name}.shard.test" for name in "abcdef"]
    assert {shard_of(host, 2) for host in hosts} == {0, 1}  # both processes get hosts
    port = mocksite.sites.rsplit(":", 1)[1]
    tag = f"hosts-{time.time_ns()}"
    urls = [f"http://{host}:{port}/slow.html?delay=0.15&{tag}={i}" for host in hosts for i in range(3)]
    post = tmp_path / "post.html"
    write_post(post, urls)
    before = len(mocksite.received("sites"))
    resolve = [arg for host in hosts for arg in ("--resolve", f"{host}:127.0.0.1")]
    run = archive(str(post), tmp_path, "out", "--processes", "2", "--delay", "0.05", *resolve)

    parts: dict[str, set[str]] = {}
    for citation in run.citations():
        assert citation["capture"]["status"] == "archived", citation
        host = citation["url"].split("/")[2].split(":")[0]
        parts.setdefault(host, set()).add(part_of(citation["capture"]["warc_file"]))
    assert all(len(used) == 1 for used in parts.values()), parts
    assert {next(iter(used)) for used in parts.values()} == {"p0", "p1"}

    received = [r for r in mocksite.received("sites")[before:] if host_header(r) in hosts]
    for host in hosts:
        hits = sorted((r for r in received if host_header(r) == host), key=lambda r: r["time"])
        assert [r["target"] for r in hits].count("/robots.txt") == 1, host  # one process asked for it
        for earlier, later in pairwise(hits):  # one connection per host, across both processes
            assert later["time"] >= earlier["done"] - 0.01, (host, earlier["target"], later["target"])


def pids_from(log: Path, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = PIDS.search(log.read_text(errors="replace")) if log.exists() else None
        if match:
            return [int(pid) for pid in match.group(1).split(", ")]
        time.sleep(0.05)
    raise AssertionError(f"no crawl process started: {log.read_text(errors='replace')[-2000:]}")


def journal_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def gone(pid: int) -> bool:
    """The process has exited (a zombie its new parent has not reaped counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


PAGES = 80


def test_killed_process_then_rerun_fetches_only_what_is_missing(mocksite: Any, tmp_path: Path) -> None:
    tag = f"killp-{time.time_ns()}"
    post, out, log = tmp_path / "post.html", tmp_path / "out", tmp_path / "run.log"
    write_post(post, [f"{mocksite.sites}/slow.html?delay=0.1&amp;{tag}={i}" for i in range(PAGES)])
    args = ["archive", str(post), "--out", str(out), "--collection", COLLECTION, "--allow-private", "--retries", "0"]
    args += ["--delay", "0.02", "--processes", "2", "--shard-by", "url"]
    process = start(args, log)
    _, victim = pids_from(log)
    collection = out / "collections" / COLLECTION
    deadline = time.monotonic() + 30
    while not any(journal_lines(path) >= 5 for path in (collection / "manifests").glob("*.p1.journal.jsonl")):
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)
    os.kill(victim, signal.SIGKILL)
    assert process.wait(timeout=60) == 4, log.read_text()[-3000:]
    text = log.read_text()
    assert f"crawl process p1 (pid {victim}) was killed by SIGKILL" in text, text[-3000:]
    assert not (out / "processes").exists()
    check_closed_warcs(collection / "archive")
    (manifest_path,) = (collection / "manifests").glob("*.json")
    first = json.loads(manifest_path.read_text(encoding="utf-8"))
    statuses = Counter(c["capture"]["status"] for p in first["posts"] for c in p["citations"])
    assert statuses["archived"] > 0 and statuses["skipped"] > 0, statuses
    (journal,) = (collection / "manifests").glob("*.journal.jsonl")
    done = {e["url"] for e in read_journal(journal) if e.get("kind") == "capture" and e["capture"]["status"] == "archived"}

    def requests() -> Counter[str]:
        return Counter(r["target"] for r in mocksite.received("sites") if f"{tag}=" in r["target"])

    before = requests()
    rerun = run_cli(args, tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Resuming the interrupted run" in rerun.stderr
    after = requests()
    refetched = [url for url in done if after[url.split(mocksite.sites, 1)[1]] != before[url.split(mocksite.sites, 1)[1]]]
    assert refetched == []
    assert sum((after - before).values()) == PAGES - len(done)  # the rest, once each
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["run_id"] == first["run_id"]
    assert [c["capture"]["status"] for c in manifest["posts"][0]["citations"]] == ["archived"] * PAGES
    check_closed_warcs(collection / "archive")
    assert not list((collection / "archive").glob("*.open"))


def test_sigterm_stops_every_process_cleanly(mocksite: Any, tmp_path: Path) -> None:
    tag = f"termp-{time.time_ns()}"
    post, out, log = tmp_path / "post.html", tmp_path / "out", tmp_path / "run.log"
    write_post(post, [f"{mocksite.sites}/slow.html?delay=0.1&amp;{tag}={i}" for i in range(PAGES)])
    args = ["archive", str(post), "--out", str(out), "--collection", COLLECTION, "--allow-private"]
    process = start([*args, "--delay", "0.02", "--processes", "2", "--shard-by", "url"], log)
    pids = pids_from(log)
    collection = out / "collections" / COLLECTION
    deadline = time.monotonic() + 30
    while sum(journal_lines(path) for path in (collection / "manifests").glob("*.p?.journal.jsonl")) < 6:
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143, log.read_text()[-3000:]
    assert all(gone(pid) for pid in pids)
    text = log.read_text()
    assert "stopping 2 crawl process(es)" in text and "killed by" not in text, text[-3000:]
    assert not list((collection / "archive").glob("*.open"))
    check_closed_warcs(collection / "archive")
    (manifest_path,) = (collection / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    captured = {hop["url"] for p in manifest["posts"] for c in p["citations"] for hop in c["capture"].get("hops") or []}
    in_warc = {url for url in responses(collection) if tag in url}
    assert in_warc and in_warc <= captured, in_warc - captured  # nothing archived is missing from the manifest
    statuses = Counter(c["capture"]["status"] for c in manifest["posts"][0]["citations"])
    assert 0 < statuses["archived"] < PAGES and statuses["archived"] + statuses["skipped"] == PAGES


def test_processes_must_be_positive(tmp_path: Path) -> None:
    post = tmp_path / "post.html"
    write_post(post, ["http://127.0.0.1:9/"])
    result = run_cli(["archive", str(post), "--out", str(tmp_path / "out"), "--processes", "0"], tmp_path)
    assert result.returncode == 2
    assert "--processes must be a whole number between 1 and" in result.stderr


def test_a_killed_parent_leaves_no_crawl_behind_and_one_process_resumes(mocksite: Any, tmp_path: Path) -> None:
    tag = f"orphan-{time.time_ns()}"
    post, out, log = tmp_path / "post.html", tmp_path / "out", tmp_path / "run.log"
    write_post(post, [f"{mocksite.sites}/slow.html?delay=0.1&amp;{tag}={i}" for i in range(PAGES)])
    args = ["archive", str(post), "--out", str(out), "--collection", COLLECTION, "--allow-private", "--delay", "0.02"]
    process = start([*args, "--processes", "2", "--shard-by", "url"], log)
    pids = pids_from(log)
    collection = out / "collections" / COLLECTION
    deadline = time.monotonic() + 30
    while sorted(journal_lines(path) >= 3 for path in (collection / "manifests").glob("*.p?.journal.jsonl")) != [True, True]:
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in pids):  # they get SIGTERM (prctl PDEATHSIG) and stop cleanly
        ps = subprocess.run(["ps", "-o", "pid,stat,cmd", "-p", ",".join(map(str, pids))], capture_output=True, text=True, check=False)
        assert time.monotonic() < deadline, ps.stdout
        time.sleep(0.1)
    assert list((out / "processes").glob("*/p*/collections/*/archive/*.warc.gz"))  # staged, not merged
    done = {
        e["url"] for journal in (collection / "manifests").glob("*.p?.journal.jsonl") for e in read_journal(journal)
        if e.get("kind") == "capture" and e["capture"]["status"] == "archived"
    }  # fmt: skip
    assert done

    def requests() -> Counter[str]:
        return Counter(r["target"] for r in mocksite.received("sites") if f"{tag}=" in r["target"])

    before = requests()
    rerun = run_cli(args, tmp_path)  # one process this time
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = requests()
    assert [url for url in done if after[url.split(mocksite.sites, 1)[1]] != before[url.split(mocksite.sites, 1)[1]]] == []
    assert not (out / "processes").exists()
    assert not list((collection / "manifests").glob("*.p?.journal.jsonl"))
    (manifest_path,) = (collection / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert [c["capture"]["status"] for c in manifest["posts"][0]["citations"]] == ["archived"] * PAGES
    indexed = {json.loads(line.split(" ", 2)[2])["filename"] for line in (collection / "indexes" / "index.cdxj").open()}
    assert {"p0", "p1"} <= {part_of(name) for name in indexed if "-p" in name}
    check_closed_warcs(collection / "archive")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run ./scripts/system-packages")
def test_render_runs_after_the_processes_merged(mocksite: Any, tmp_path: Path) -> None:
    run = archive(mocksite.blog + jspages.JS_POST_PATH, tmp_path, "out", "--render", "--processes", "2", "--shard-by", "url")
    (citation,) = run.citations()
    render = citation["render"]
    assert citation["capture"]["status"] == "archived" and render["status"] == "archived", render
    with (run.collection / "archive" / render["screenshot"]["warc_file"]).open("rb") as stream:
        stream.seek(render["screenshot"]["offset"])
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "resource" and record.content_stream().read().startswith(b"\x89PNG")
    assert not (run.out / "processes").exists()


def test_a_terminal_gets_one_progress_line_for_all_processes(mocksite: Any, tmp_path: Path) -> None:
    """On a TTY the parent draws the progress line the single-process crawl draws, from the processes' journals."""
    out = tmp_path / "out"
    violations = tmp_path / "violations.txt"
    violations.touch()
    master, terminal = pty.openpty()
    command = [sys.executable, "-m", "tests.netguard", str(violations), "--", "archive", mocksite.post_url, "--out",
               str(out), "--collection", COLLECTION, "--allow-private", "--processes", "2", "--shard-by", "url"]  # fmt: skip
    with (tmp_path / "stdout.txt").open("wb") as stdout:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=stdout, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal has ended
                break
            if not data:
                break
            shown += data
        assert process.wait(timeout=60) == 0, shown.decode(errors="replace")[-3000:]
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert violations.read_text() == ""
    (journal,) = (out / "collections" / COLLECTION / "manifests").glob("*.journal.jsonl")  # the merged one
    entries = list(read_journal(journal))
    (post,) = [entry for entry in entries if entry["kind"] == "post"]
    keys = {citation["key"] for citation in post["citations"]}
    statuses = Counter(entry["capture"]["status"] for entry in entries if entry["kind"] == "capture")
    counts = " ".join(f"{status} {n}" for status, n in sorted(statuses.items()))
    expected = f"posts 1 · URLs {len(keys)}/{len(keys)} · {counts}"
    drawn = [part.split("\x1b[K", 1)[1].rstrip("\r\n") for part in shown.decode().split("\r") if part.startswith("\x1b[K")]
    assert drawn and drawn[-1] == expected, drawn[-5:]
    assert "posts 0 · URLs 0/0" in drawn[0]  # drawn from the start, then as the journals grow
