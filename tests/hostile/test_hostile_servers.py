"""Issue 7B: a fault-injecting server, route by route: the outcome, what is stored, time and memory."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import CliRun, run_cli
from tests.hostile.fixture import run_hostile_server
from tests.hostile.server import ROUTES

TIMEOUT = 3.0
CAP_MIB = 32


@dataclass(frozen=True)
class Expected:
    status: str
    reason: str | None = None  # a phrase the reason must contain
    stored: str = "record"  # record: the final response is in the WARC; truncated: with WARC-Truncated;
    # none: nothing could be recorded; hops: some exchanges recorded, none final
    http_status: int | None = None


E = Expected
EXPECTED: dict[str, Expected] = {
    "/ok": E("archived", http_status=200),
    "/incompressible": E("archived", http_status=200),
    "/gzip-bomb": E("failed", "compression bomb", "hops"),
    "/deflate-bomb": E("failed", "compression bomb", "hops"),
    "/br-unasked": E("failed", "could not decode", "hops"),
    "/double-gzip": E("archived", http_status=200),
    "/gzip-corrupt": E("failed", "could not decode", "hops"),
    "/encoding-unknown": E("archived", http_status=200),
    "/endless-chunked": E("failed", "too large", "none"),
    "/over-cap-declared": E("failed", "too large", "none"),
    "/over-cap-chunked": E("failed", "too large", "none"),
    "/under-cap-large": E("archived", http_status=200),
    "/cl-too-long": E("failed", "WARC-Truncated", "truncated", 200),
    "/cl-too-short": E("archived", http_status=200),
    "/cl-conflicting": E("failed", "connection failed", "none"),
    "/reset-mid-body": E("failed", "WARC-Truncated", "truncated", 200),
    "/close-no-length": E("archived", http_status=200),
    "/huge-headers": E("archived", http_status=200),
    "/huge-header-line": E("failed", "connection failed", "none"),
    "/set-cookie-flood": E("archived", http_status=200),
    "/many-links": E("archived", http_status=200),
    "/redirect-loop": E("failed", "too many redirects", "hops"),
    "/chain": E("failed", "too many redirects", "hops"),
    "/meta-refresh-loop": E("failed", "too many redirects", "hops"),
    "/redirect-no-location": E("failed", "not followed", "record", 302),
    "/redirect-bad-location": E("failed", "invalid URL", "hops"),
    "/redirect-long-location": E("failed", "connection failed", "none"),  # a 100 KB header line
    "/redirect-unicode": E("archived", http_status=200),
    "/hang-before-headers": E("failed", "timed out", "none"),
    "/hang-after-headers": E("failed", "timed out", "none"),
    "/drip": E("failed", "timed out", "none"),
    "/slow-headers": E("failed", "timed out", "none"),
    "/invalid-status-line": E("failed", "connection failed", "none"),
    "/http09": E("failed", "connection failed", "none"),
    "/empty-response": E("failed", "connection failed", "none"),
    "/garbage-response": E("failed", "connection failed", "none"),
    "/status-204": E("archived", http_status=204),
    "/status-304": E("failed", "no page", "record", 304),
    "/status-999": E("failed", "HTTP 999", "record", 999),
    "/status-410": E("failed", "410 Gone", "record", 410),
    "/lying-charset": E("archived", http_status=200),
    "/nul-in-header": E("archived", http_status=200),
    "/obs-fold": E("archived", http_status=200),
    "/trailing-garbage": E("archived", http_status=200),
    "/binary-as-html": E("archived", http_status=200),
}


@dataclass
class HostileRun:
    base: str
    run: CliRun
    baseline: CliRun
    out: Path
    captures: dict[str, dict[str, Any]]
    log: list[dict[str, Any]]


def archive(base: str, paths: list[str], tmp_path: Path, name: str) -> tuple[CliRun, Path]:
    post = tmp_path / f"{name}.html"
    links = "\n".join(f'<p>Route <a href="{base}{path}">{path}</a>.</p>' for path in paths)
    post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    out = tmp_path / name
    args = ["archive", str(post), "--out", str(out), "--allow-private", "-q"]
    args += ["--timeout", str(TIMEOUT), "--retries", "0", "--max-size", str(CAP_MIB), "--delay", "0.05"]
    return run_cli(args, tmp_path), out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    tmp = tmp_path_factory.mktemp("hostile")
    with run_hostile_server() as base:
        baseline, _ = archive(base, ["/ok"], tmp, "baseline")
        run, out = archive(base, list(EXPECTED), tmp, "hostile")
        with urllib.request.urlopen(f"{base}/__log", timeout=10) as response:
            log = json.load(response)
    (manifest_path,) = (out / "collections" / "citations" / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    captures = {c["url"][len(base) :]: c["capture"] for c in manifest["posts"][0]["citations"]}
    yield HostileRun(base, run, baseline, out, captures, log)


def test_every_route_has_an_expected_outcome() -> None:
    assert set(EXPECTED) == set(ROUTES) and len(EXPECTED) >= 40


def test_the_crawler_survives(hostile: HostileRun) -> None:
    assert hostile.run.returncode == 0, hostile.run.stderr[-3000:]
    assert "Traceback" not in hostile.run.stderr
    assert hostile.run.violations == []


def record_at(out: Path, capture: dict[str, Any]) -> Any:
    with (out / "collections" / "citations" / "archive" / capture["warc_file"]).open("rb") as stream:
        stream.seek(capture["offset"])
        record = next(iter(ArchiveIterator(stream)))
        record.content_stream().read()
        return record


@pytest.mark.parametrize("path", list(EXPECTED))
def test_route_outcome(hostile: HostileRun, path: str) -> None:
    expected = EXPECTED[path]
    capture = hostile.captures[path]
    assert capture["status"] == expected.status, capture
    if expected.reason:
        assert expected.reason in (capture["reason"] or ""), capture["reason"]
    if expected.http_status is not None:
        assert capture["http_status"] == expected.http_status
    if expected.stored == "none":
        assert capture["hops"] == [] and capture["warc_file"] is None
    elif expected.stored == "hops":
        assert capture["hops"], capture
        for hop in capture["hops"]:
            assert record_at(hostile.out, hop).rec_type == "response"
    else:
        record = record_at(hostile.out, capture)
        assert record.rec_headers["WARC-Record-ID"] == capture["record_id"]
        truncated = record.rec_headers.get_header("WARC-Truncated")
        assert (truncated is not None) == (expected.stored == "truncated"), truncated


def test_each_attempt_ends_within_its_timeout(hostile: HostileRun) -> None:
    held = {
        entry["path"]: entry["closed"] - entry["accepted"]
        for entry in hostile.log
        if entry["path"] in EXPECTED and entry["closed"] is not None
    }
    slowest = max(held.items(), key=lambda item: item[1])
    print(f"\nHostile servers: longest connection held {slowest[1]:.1f} s ({slowest[0]}), bound {TIMEOUT + 5:.0f} s")
    assert all(seconds <= TIMEOUT + 5 for seconds in held.values()), held


def test_peak_memory_stays_within_three_body_caps(hostile: HostileRun) -> None:
    baseline_mb = hostile.baseline.peak_rss_kb / 1024
    peak_mb = hostile.run.peak_rss_kb / 1024
    bound = baseline_mb + 3 * CAP_MIB
    print(f"\nHostile servers: peak RSS {peak_mb:.0f} MB; idle crawler {baseline_mb:.0f} MB; bound {bound:.0f} MB")
    assert peak_mb < bound


def test_warcio_check_passes_with_truncated_records(hostile: HostileRun) -> None:
    import subprocess
    import sys

    for path in (hostile.out / "collections" / "citations" / "archive").glob("*.warc.gz"):
        result = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
