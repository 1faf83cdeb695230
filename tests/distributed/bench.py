"""Benchmark: one worker against three on 300 citations of a slow mock page (``python -m tests.distributed.bench``)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.distributed.helpers import load_manifest, run, run_redis, start_worker, write_post
from tests.mocksite.fixture import MockSite, run_mocksite


def one_run(site: MockSite, workers: int, citations: int, delay: float, tmp: Path) -> dict[str, float]:
    pages = [f"{site.sites}/slow.html?delay={delay}&bench={workers}-{tmp.name}-{i}" for i in range(citations)]
    post = write_post(tmp / "post.html", pages)
    out = tmp / "out"
    redis_dir = tmp / "redis"
    redis_dir.mkdir()
    with run_redis(redis_dir) as url:
        assert run(["enqueue", str(post), "--redis", url], tmp).returncode == 0
        started = time.monotonic()
        wall_start = time.time()
        procs = [start_worker(url, out, f"b{n}", tmp) for n in range(workers)]
        codes = [proc.wait(600) for proc in procs]
        wall = time.monotonic() - started
        final = run(["finalize", "--redis", url, "--out", str(out)], tmp)
    assert codes == [0] * workers and final.returncode == 0, (codes, final.stdout[-500:], final.stderr[-500:])
    captures = [c["capture"] for p in load_manifest(out)["posts"] for c in p["citations"]]
    assert len(captures) == citations and all(c["status"] == "archived" for c in captures)
    # Until the last cited page was answered (the workers then idle until --idle-exit).
    tag = f"bench={workers}-{tmp.name}-"
    work = max(r["time"] for r in site.received() if tag in r["target"]) + delay - wall_start
    return {"wall": wall, "work": work}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--citations", type=int, default=300)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    results: dict[int, list[dict[str, float]]] = {1: [], 3: []}
    with run_mocksite() as site, tempfile.TemporaryDirectory() as tmp:
        for attempt in range(args.repeat):
            for workers in (1, 3):
                directory = Path(tmp) / f"w{workers}-{attempt}"
                directory.mkdir()
                results[workers].append(one_run(site, workers, args.citations, args.delay, directory))
    summary = {
        str(workers): {key: round(statistics.median(r[key] for r in runs), 2) for key in ("wall", "work")}
        for workers, runs in results.items()
    }
    print(json.dumps({"citations": args.citations, "delay": args.delay, "runs": results, "median": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
