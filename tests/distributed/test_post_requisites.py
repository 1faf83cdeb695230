"""Workers archive the post page's own requisites once, and the manifest counts them whoever fetched them."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.demo import POST_PATH, POST_SITE, demo_sites
from tests.distributed.helpers import load_manifest, run, start_worker, violations

#: What the demo post's page needs (crawler/demo/site/blogg/): its stylesheet, logo, icon font and a CSS background.
POST_REQUISITES = ("/style.css", "/bilder/logo.svg", "/typsnitt/ikoner.woff", "/bilder/vagor.svg")


def responses_by_worker(out: Path) -> Counter[tuple[str, str]]:
    """(target URI, worker id) of every response record of the collection."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in (out / "collections" / "citations" / "archive").glob("*.warc.gz"):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    counts[(record.rec_headers.get_header("WARC-Target-URI"), path.name.split("-")[3])] += 1
    return counts


def test_two_workers_archive_the_post_pages_requisites_once(redis_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with demo_sites() as sites:
        post_url = sites.url(POST_SITE, POST_PATH)
        enqueued = run(["enqueue", post_url, "--redis", redis_url], tmp_path)
        assert enqueued.returncode == 0, enqueued.stderr
        workers = [start_worker(redis_url, out, f"w{n}", tmp_path) for n in range(2)]
        assert [worker.wait(timeout=180) for worker in workers] == [0, 0]
    final = run(["finalize", "--redis", redis_url, "--out", str(out)], tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert violations(tmp_path) == []
    (post,) = load_manifest(out)["posts"]
    assert post["snapshot"]["status"] == "archived"
    assert post["requisites"] == {"archived": len(POST_REQUISITES), "failed": []}
    responses = responses_by_worker(out)
    origin = post_url.removesuffix(POST_PATH)
    fetched_by = {}
    for path in POST_REQUISITES:
        records = {worker: n for (uri, worker), n in responses.items() if uri == origin + path}
        assert sum(records.values()) == 1, (path, records)
        fetched_by[path] = next(iter(records))
    print(f"\npost page archived by {[w for (uri, w) in responses if uri == post_url]}, its requisites by {fetched_by}")


def journalled_post(out: Path, worker_id: str) -> bool:
    manifests = out / "workers" / worker_id / "collections" / "citations" / "manifests"
    return any('"kind":"post"' in path.read_text() for path in manifests.glob("*.journal.jsonl"))


def test_requisites_another_worker_fetched_are_credited_to_the_post(redis_url: str, tmp_path: Path) -> None:
    """The worker that read the post is stopped before its requisites are fetched (5 s between requests
    to a host); it hands them back, and the next worker, whose ledger never saw them, credits the post."""
    out = tmp_path / "out"
    with demo_sites() as sites:
        post_url = sites.url(POST_SITE, POST_PATH)
        assert run(["enqueue", post_url, "--redis", redis_url], tmp_path).returncode == 0
        first = start_worker(redis_url, out, "first", tmp_path, "--idle-exit", "0", "--delay", "5")
        deadline = time.monotonic() + 60
        while not journalled_post(out, "first"):
            assert time.monotonic() < deadline and first.poll() is None, (tmp_path / "worker-first.log").read_text()[-3000:]
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 128 + signal.SIGTERM
        second = start_worker(redis_url, out, "second", tmp_path)
        assert second.wait(timeout=180) == 0, (tmp_path / "worker-second.log").read_text()[-3000:]
    final = run(["finalize", "--redis", redis_url, "--out", str(out)], tmp_path)
    assert final.returncode == 0, final.stdout + final.stderr
    (post,) = load_manifest(out)["posts"]
    responses = responses_by_worker(out)
    origin = post_url.removesuffix(POST_PATH)
    assert [w for (uri, w) in responses if uri == post_url] == ["first"]
    assert {w for (uri, w) in responses if uri == origin + "/style.css"} == {"second"}
    assert post["requisites"] == {"archived": len(POST_REQUISITES), "failed": []}
