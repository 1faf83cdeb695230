"""Index and replay at scale: build the CDXJ index of a 100,000-record collection, then replay single captures from it.

The index is timed twice: as a run's end builds it (the writer's side indexes, read, sorted and
merged) and, as the baseline, by re-reading every WARC with cdxj_indexer (what a run's end did
before, and still does for files without a side index).
"""

from __future__ import annotations

import http.client
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.capture import Capture
from archive.cdxj import index_warc_files, merge_into_index
from archive.collection import Collection
from archive.sideindex import index_new_files, side_index_dir
from archive.writer import ArchiveWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import free_port  # noqa: E402

COLLECTION = "bench"


def build_collection(out: Path, records: int, files: int = 10) -> tuple[Collection, list[str], list[str]]:
    """``records`` response records (each with its request record) over ``files`` WARC files, not yet indexed."""
    collection = Collection(out, COLLECTION)
    collection.create()
    rng = random.Random(100)
    body = b"<!doctype html><title>t</title><p>" + rng.randbytes(300).hex().encode() + b"</p>\n"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    urls: list[str] = []
    per_file = -(-records // files)
    for index in range(records):
        if index % per_file == 0:
            if index:
                writer.close()
            writer = ArchiveWriter(
                collection.archive_dir, prefix="bench", fsync=False, side_dir=side_index_dir(collection.index_path)
            )
        url = f"http://site{index % 97}.example/posts/{index:06d}.html?ref=bench"
        urls.append(url)
        writer.write_capture(
            Capture(
                url=url,
                method="GET",
                status=200,
                protocol="HTTP/1.1",
                headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                body=body,
                request_headers=[("User-Agent", "bench"), ("Accept", "*/*")],
                fetched_at=start + timedelta(seconds=index),
            )
        )
    writer.close()
    names = sorted(p.name for p in collection.archive_dir.glob("*.warc.gz"))
    return collection, names, urls


def time_index(collection: Collection, names: list[str]) -> tuple[float, int]:
    """Seconds to index the WARCs and merge the lines into the collection's index, as a run's end does.

    From the writer's side indexes (which update_index then removes; kept here for the next round).
    """
    if collection.index_path.exists():
        collection.index_path.unlink()
    side_dir = side_index_dir(collection.index_path)
    if len(list(side_dir.glob("*.cdxj"))) != len(names):
        raise RuntimeError(f"expected a side index per WARC in {side_dir}")
    began = time.perf_counter()
    lines = index_new_files(collection.archive_dir, names, side_dir)
    count = merge_into_index(collection.index_path, lines)
    return time.perf_counter() - began, count


def time_full_index(collection: Collection, names: list[str]) -> tuple[float, int]:
    """Seconds to index the WARCs by re-reading them with cdxj_indexer, then merge: the baseline."""
    if collection.index_path.exists():
        collection.index_path.unlink()
    began = time.perf_counter()
    lines = index_warc_files(collection.archive_dir, names)
    count = merge_into_index(collection.index_path, lines)
    return time.perf_counter() - began, count


def replay_latencies(out: Path, urls: list[str], samples: int, python: str) -> list[float]:
    """Milliseconds per GET of one capture (``id_``: unrewritten) from a running `citearchive replay` server."""
    port, archive_port = free_port(), free_port()
    log = (out / "replay.out").open("wb")
    cmd = [str(Path(python).parent / "citearchive"), "replay", "--out", str(out), "--port", str(port), "--archive-port", str(archive_port), "-q"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + 60
        conn: http.client.HTTPConnection | None = None
        while conn is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the replay server did not start; see {out / 'replay.out'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", archive_port, timeout=30)
                conn.connect()
            except OSError:
                conn = None
                time.sleep(0.2)
        rng = random.Random(7)
        picks = [urls[rng.randrange(len(urls))] for _ in range(samples + 5)]
        timings: list[float] = []
        for number, url in enumerate(picks):
            began = time.perf_counter()
            conn.request("GET", f"/{COLLECTION}/2027id_/{url}")
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - began) * 1000
            if response.status != 200 or b"<title>t</title>" not in body:
                raise RuntimeError(f"replay of {url} answered {response.status}: {body[:200]!r}")
            if number >= 5:  # the first requests warm pywb up
                timings.append(elapsed)
        conn.close()
        return timings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def run(out: Path, records: int, rounds: int, samples: int) -> dict[str, float]:
    began = time.perf_counter()
    collection, names, urls = build_collection(out, records)
    built = time.perf_counter() - began
    index_times, full_times = [], []
    for _ in range(rounds):
        seconds, full_count = time_full_index(collection, names)
        full_times.append(seconds)
        baseline = collection.index_path.read_bytes()
        seconds, count = time_index(collection, names)
        index_times.append(seconds)
        if count != records or full_count != records:
            raise RuntimeError(f"the index has {count} lines ({full_count} by cdxj_indexer), expected {records}")
        if collection.index_path.read_bytes() != baseline:
            raise RuntimeError("the index built from the side indexes differs from cdxj_indexer's")
    latencies = replay_latencies(out, urls, samples, sys.executable)
    return {
        "records": records,
        "build_s": built,
        "index_s": statistics.median(index_times),
        "index_full_s": statistics.median(full_times),
        "index_rounds": len(index_times),
        "replay_median_ms": statistics.median(latencies),
        "replay_p90_ms": statistics.quantiles(latencies, n=10)[-1],
        "replay_samples": len(latencies),
        "index_bytes": os.path.getsize(collection.index_path),
    }
