"""Three worker processes on one Redis frontier; a SIGKILLed worker loses no citation, a stopped one hands its work back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.cdxj import lookup
from tests.distributed.helpers import (
    load_manifest,
    run,
    run_hold_site,
    start_worker,
    violations,
    write_post,
)
from tests.mocksite.content import SOURCES_CITATIONS


def response_uris(out: Path) -> Counter[str]:
    """How many response records each URL has across every WARC of the collection."""
    counts: Counter[str] = Counter()
    for path in sorted((out / "collections" / "citations" / "archive").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    counts[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return counts


def wait_all(workers: list[subprocess.Popen[str]], timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    return [worker.wait(timeout=max(1, deadline - time.monotonic())) for worker in workers]


def citations(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for post in manifest["posts"] for c in post["citations"]]


def test_three_workers_archive_every_citation_once(mocksite: Any, redis_url: str, tmp_path: Path) -> None:
    # Slow pages: the frontier lasts longer than the workers' start-up skew on a loaded
    # machine, so every worker gets its share (each holds up to CONCURRENT_REQUESTS at once).
    pages = [f"{mocksite.sites}/slow.html?delay=0.4&three={i}" for i in range(45)]
    # The local post also cites three of the blog post's sources: one fetch each, whoever meets it first.
    shared = [f"{mocksite.sites}{target}" for target, _ in SOURCES_CITATIONS[:3]]
    post = write_post(tmp_path / "post.html", pages + shared)
    out = tmp_path / "out"
    enqueued = run(["enqueue", mocksite.post_url, str(post), "--redis", redis_url], tmp_path)
    assert enqueued.returncode == 0, enqueued.stderr
    workers = [start_worker(redis_url, out, f"w{n}", tmp_path) for n in range(3)]
    assert wait_all(workers) == [0, 0, 0]
    final = run(["finalize", "--redis", redis_url, "--out", str(out)], tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert violations(tmp_path) == []

    manifest = load_manifest(out)
    assert [p["source"] for p in manifest["posts"]] == [mocksite.post_url, str(post)]
    assert manifest["posts"][0]["snapshot"]["status"] == "archived"
    cited = citations(manifest)
    assert len(cited) == len(SOURCES_CITATIONS) + len(pages) + len(shared)
    assert all(c["capture"]["status"] in ("archived", "failed", "blocked") for c in cited)

    # Every generated page was requested once overall and stored in one response record.
    received = Counter(r["target"] for r in mocksite.received())
    uris = response_uris(out)
    for url in pages + shared:
        target = url[len(mocksite.sites) :]
        assert received[target] == 1, target
        assert uris[url] == 1, url
    # Three workers shared the frontier: each wrote WARCs (named by worker id) and a journal.
    archive_dir = out / "collections" / "citations" / "archive"
    writers = {name.name.split("-")[3] for name in archive_dir.glob("*.warc.gz")}
    assert writers == {"w0", "w1", "w2"}
    journals = sorted(p.name for p in (out / "collections" / "citations" / "manifests").glob("*.journal.jsonl"))
    assert [name.split(".")[1] for name in journals] == ["w0", "w1", "w2"]
    assert not list(out.rglob("*.open"))
    # The index has every capture the manifest points to.
    index = out / "collections" / "citations" / "indexes" / "index.cdxj"
    for citation in cited:
        capture = citation["capture"]
        if capture["warc_file"]:
            entries = lookup(index, capture["final_url"])
            assert any(
                e["filename"] == capture["warc_file"] and int(e["offset"]) == capture["offset"] for e in entries
            ), citation["url"]


def test_sigkilled_worker_loses_no_citation(redis_url: str, tmp_path: Path) -> None:
    with run_hold_site() as site:
        fast = [f"{site.base}/pages/query.html?kill={i}" for i in range(8)]
        held = [f"{site.base}/hold/{i}.html" for i in range(2)]
        post = write_post(tmp_path / "post.html", fast[:4] + held + fast[4:])
        out = tmp_path / "out"
        assert run(["enqueue", str(post), "--redis", redis_url], tmp_path).returncode == 0
        # Two requests in the victim's hands at most, both in flight: once both wait on a held
        # response, it takes nothing more from the shared queue.
        victim = start_worker(
            redis_url, out, "victim", tmp_path, "--concurrency", "2", "--per-host", "2", "--user-agent", "victim"
        )
        deadline = time.monotonic() + 60
        while len(site.requested("/hold/")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(site.requested("/hold/")) == ["/hold/0.html", "/hold/1.html"]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        site.release()  # the answers go to a dead socket

        rescue = start_worker(redis_url, out, "rescue", tmp_path)
        assert wait_all([rescue]) == [0]
        before = Counter(site.requested("/"))
        reconcile = run(["finalize", "--redis", redis_url, "--out", str(out), "--wait", "30"], tmp_path)
        assert reconcile.returncode == 4, reconcile.stdout + reconcile.stderr
        requeued = sorted(line.split(": ", 1)[1] for line in reconcile.stdout.splitlines() if line.startswith("re-"))
        assert not list((out / "collections" / "citations" / "manifests").glob("*.json"))
        # Re-enqueued: exactly the held URLs, which the victim had requested and no one answered.
        assert requeued == held
        assert all(before[url[len(site.base) :]] == 1 for url in held)
        victim_asked = {r["target"] for r in site.server.received if ["User-Agent", "victim"] in r["headers"]}
        assert {url[len(site.base) :] for url in held} <= victim_asked

        again = start_worker(redis_url, out, "again", tmp_path)
        assert wait_all([again]) == [0]
        final = run(["finalize", "--redis", redis_url, "--out", str(out)], tmp_path)
        assert final.returncode == 0, final.stdout + final.stderr
        assert violations(tmp_path) == []

        cited = {c["url"]: c["capture"] for c in citations(load_manifest(out))}
        assert sorted(cited) == sorted(fast + held)
        assert all(capture["status"] == "archived" for capture in cited.values())
        # Exactly the re-enqueued URLs were fetched again (the held ones a second time); the rest once.
        received = Counter(site.requested("/"))
        for url in fast + held:
            assert received[url[len(site.base) :]] == (2 if url in held else 1), url
        assert {cited[url]["warc_file"].split("-")[3] for url in requeued} == {"again"}
        uris = response_uris(out)
        assert all(uris[url] == 1 for url in fast + held), uris
        assert {cited[url]["warc_file"].split("-")[3] for url in held} == {"again"}
        assert not list(out.rglob("*.open"))


def test_bad_input_is_one_line(tmp_path: Path, redis_url: str) -> None:
    bad_url = run(["enqueue", "https://blog.example/post", "--redis", "http://nope"], tmp_path)
    assert bad_url.returncode == 2 and len(bad_url.stderr.strip().splitlines()) == 1, bad_url.stderr
    no_run = run(["worker", "--redis", redis_url, "--out", str(tmp_path / "o")], tmp_path)
    assert no_run.returncode == 2 and "citearchive enqueue" in no_run.stderr, no_run.stderr
    unreachable = run(["finalize", "--redis", "redis://127.0.0.1:1/0"], tmp_path)
    assert unreachable.returncode == 2 and "Traceback" not in unreachable.stderr, unreachable.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stopped_worker_hands_back_what_it_held_and_the_next_one_completes(
    mocksite: Any, redis_url: str, tmp_path: Path, signum: int
) -> None:
    """Issue 17: a worker stops within moments of SIGINT/SIGTERM, cuts its requests and hands them back to the queue."""
    tag = f"wstop{int(signum)}x{time.time_ns() % 10**8}"
    pages = [f"{mocksite.sites}/slow.html?delay=0.4&{tag}={i}" for i in range(16)]
    post = write_post(tmp_path / "post.html", pages)
    out = tmp_path / "out"
    assert run(["enqueue", str(post), "--redis", redis_url], tmp_path).returncode == 0
    # One host, one connection, 0.4 s a page: when the third page has been asked for, the
    # worker holds up to 16 requests (CONCURRENT_REQUESTS), one in flight and the rest queued.
    first = start_worker(redis_url, out, "first", tmp_path, "--idle-exit", "0")
    deadline = time.monotonic() + 60
    while sum(tag in r["target"] for r in mocksite.received()) < 3:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    sent = time.monotonic()
    first.send_signal(signum)
    code = first.wait(timeout=60)
    seconds = time.monotonic() - sent
    log = (tmp_path / "worker-first.log").read_text()
    print(f"\nworker {signal.Signals(signum).name}: stopped in {seconds:.2f} s, exit {code}")
    assert code == 128 + signum, log[-3000:]
    assert seconds <= float(os.environ.get("CITEARCHIVE_STOP_LIMIT", "4")), log[-3000:]
    assert "Traceback" not in log and "Unhandled error" not in log, log[-3000:]
    # Its crawl log (the hand-back is logged at INFO) is in its staging folder, not on the terminal.
    crawl_log = "".join(path.read_text() for path in sorted((out / "workers" / "first").glob("collections/*/logs/*.log")))
    handed = re.search(r"Handed (\d+) interrupted request\(s\) back", crawl_log)
    assert handed is not None and int(handed.group(1)) > 0, log[-3000:] + crawl_log[-3000:]
    staged = out / "workers" / "first" / "collections" / "citations" / "archive"
    assert list(staged.glob("*.warc.gz")) and not list(staged.glob("*.open"))
    for path in staged.glob("*.warc.gz"):
        with path.open("rb") as stream:
            assert all(record.rec_type for record in ArchiveIterator(stream))

    # The same command (another worker) takes up what the first handed back; finalize finds nothing lost.
    second = start_worker(redis_url, out, "second", tmp_path)
    assert wait_all([second]) == [0], (tmp_path / "worker-second.log").read_text()[-3000:]
    final = run(["finalize", "--redis", redis_url, "--out", str(out)], tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert violations(tmp_path) == []
    cited = {c["url"]: c["capture"] for c in citations(load_manifest(out))}
    assert sorted(cited) == sorted(pages) and all(c["status"] == "archived" for c in cited.values())
    uris = response_uris(out)
    assert all(uris[url] == 1 for url in pages), uris  # a cut request left no record: each page stored once
    writers = {cited[url]["warc_file"].split("-")[3] for url in pages}
    assert writers == {"first", "second"}
