"""Four runs (archive, then three recrawls) of pages that change, fail, soft-404 or stay put."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import run_cli
from tests.e2e.test_replay_pywb import fetch
from tests.wayback import run_wayback

COLLECTION = "rec"
PAGES = ("stable", "drift", "dying", "flaky", "soft", "homer", "gz")
# Mode of each page in each run; the runs are dated day 0, 1, 3 and 5 (the clock is injected
# by dating each run's manifest, the catalog's source of truth).
PLAN: list[dict[str, tuple[str, int]]] = [
    {"stable": ("ok", 1), "drift": ("ok", 1), "dying": ("ok", 1), "flaky": ("ok", 1),
     "soft": ("ok", 1), "homer": ("ok", 1), "gz": ("gzipvary", 1)},
    {"drift": ("ok", 2), "dying": ("gone", 1), "flaky": ("error", 1), "soft": ("soft404-sv", 1),
     "homer": ("home", 1)},
    {"flaky": ("ok", 1)},
    {"flaky": ("error", 1)},
]
DAYS = (0, 1, 3, 5)


@dataclass
class History:
    out: Path
    sites: str
    runs: list[Any]
    manifests: list[dict[str, Any]]
    report: dict[str, Any]
    report_exit: int
    html: Path

    @property
    def root(self) -> Path:
        return self.out / "collections" / COLLECTION

    def url(self, name: str) -> str:
        return f"{self.sites}/live/rec/{name}"

    def citation(self, name: str) -> dict[str, Any]:
        return next(c for c in self.report["posts"][0]["citations"] if c["url"] == self.url(name))

    def manifest_citation(self, run: int, name: str) -> dict[str, Any]:
        return next(c for c in self.manifests[run]["posts"][0]["citations"] if c["url"] == self.url(name))


def _date_manifest(path: Path, day: int) -> None:
    """Inject the clock: the run happened ``day`` days after 2030-01-01."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["started"] = f"2030-01-{1 + day:02d}T03:00:00Z"
    manifest["finished"] = f"2030-01-{1 + day:02d}T03:01:00Z"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@pytest.fixture(scope="module")
def history(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> History:
    tmp = tmp_path_factory.mktemp("recrawl")
    out = tmp / "out"
    post = tmp / "post.html"
    links = " ".join(f'<a href="{mocksite.sites}/live/rec/{name}">the {name} source</a>.' for name in PAGES)
    post.write_text(f"<html><head><title>Rot post</title></head><body><article><h1>Rot post</h1>"
                    f"<p>Sources: {links}</p></article></body></html>", encoding="utf-8")
    runs, seen = [], set()
    manifests_dir = out / "collections" / COLLECTION / "manifests"
    for index, changes in enumerate(PLAN):
        for name, (mode, version) in changes.items():
            mocksite.set_live(f"/live/rec/{name}", mode, version)
        common = ["--out", str(out), "--collection", COLLECTION, "--allow-private", "--retries", "0", "-q"]
        if index == 0:
            args = ["archive", str(post), "--base", "https://blog.example/", *common]
        else:
            args = ["recrawl", *common]
        run = run_cli(args, tmp)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.violations == []
        runs.append(run)
        (new,) = set(manifests_dir.glob("*.json")) - seen
        seen.add(new)
        _date_manifest(new, DAYS[index])
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(seen)]
    manifests.sort(key=lambda m: m["started"])
    report = run_cli(["report", "--out", str(out), "--collection", COLLECTION, "--format", "json"], tmp)
    html = tmp / "report.html"
    html_run = run_cli(["report", "--out", str(out), "--collection", COLLECTION, "-o", str(html)], tmp)
    assert html_run.returncode == report.returncode
    return History(out, mocksite.sites, runs, manifests, json.loads(report.stdout), report.returncode, html)


def test_unchanged_pages_become_small_revisits(history: History) -> None:
    stable = [history.manifest_citation(run, "stable")["capture"] for run in range(4)]
    assert "revisit_of" not in stable[0]
    for capture in stable[1:]:
        assert capture["status"] == "archived"
        assert capture["revisit_of"]["record_id"] == stable[0]["record_id"]
    sizes = _revisit_pair_sizes(history.root / "archive")
    assert sizes, "no revisit records written"
    assert max(sizes) <= 2048, sizes
    print(f"revisit + request bytes per unchanged page: {sorted(set(sizes))}")


def _revisit_pair_sizes(archive: Path) -> list[int]:
    sizes = []
    for path in sorted(archive.glob("*.warc.gz")):
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream)
            previous = None
            for record in iterator:
                record.content_stream().read()
                length = iterator.get_record_length()
                if previous is not None and record.rec_type == "request":
                    sizes.append(previous + length)
                previous = length if record.rec_type == "revisit" else None
                if record.rec_type == "revisit":
                    headers = record.rec_headers
                    assert headers.get_header("WARC-Profile").endswith("/warc/1.1/revisit/identical-payload-digest")
                    assert headers.get_header("WARC-Refers-To-Target-URI")
                    assert headers.get_header("WARC-Refers-To-Date")
                    assert headers.get_header("WARC-Refers-To").startswith("<urn:uuid:")
                    assert record.http_headers.get_statuscode()
    return sizes


def test_gzip_recompressed_page_is_a_full_record_but_unchanged(history: History) -> None:
    captures = [history.manifest_citation(run, "gz")["capture"] for run in range(4)]
    assert all("revisit_of" not in c for c in captures)
    assert len({c["payload_digest"] for c in captures}) == 4
    gz = history.citation("gz")
    assert gz["state"] == "alive" and not gz["drifted"]
    assert gz["drift"]["identical_payload"] is True


def test_verdicts(history: History) -> None:
    states = {name: history.citation(name)["state"] for name in PAGES}
    assert states == {"stable": "alive", "drift": "alive", "dying": "dead", "flaky": "at-risk",
                      "soft": "dead", "homer": "dead", "gz": "alive"}
    assert [name for name in PAGES if history.citation(name)["drifted"]] == ["drift"]
    assert "HTTP 404" in history.citation("dying")["evidence"][0]
    assert "not-found page" in history.citation("soft")["evidence"][0]
    assert "home page" in history.citation("homer")["evidence"][0]
    drift = history.citation("drift")["drift"]
    assert drift["change"] > 0.2 and "+Revision 2" in drift["diff"]


def test_best_copy_is_the_last_good_capture(history: History) -> None:
    first = history.manifest_citation(0, "dying")["capture"]
    dying = history.citation("dying")
    assert dying["last_good"]["record_id"] == first["record_id"]
    latest = history.manifest_citation(3, "dying")
    assert latest["capture"]["status"] == "failed"
    assert latest["best_capture"]["record_id"] == first["record_id"]
    assert latest["rot"]["state"] in ("at-risk", "dead")


def test_soft404_probes_are_recorded(history: History) -> None:
    probes = history.manifests[0].get("probes") or []
    assert any(p["directory"] == f"{history.sites}/live/rec/" for p in probes)
    assert all(p["capture"]["http_status"] == 404 for p in probes)


def test_report_exit_code_and_html(history: History) -> None:
    assert history.report_exit == 5  # flaky turned at risk again in the last run
    html = history.html.read_text(encoding="utf-8")
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    assert "http://" not in html.split("<body>")[0]
    assert history.url("dying") in html and "dead" in html


def test_catalog_is_rebuilt_when_stale(history: History) -> None:
    from archive.catalog import Catalog
    from archive.collection import Collection

    collection = Collection(history.out, COLLECTION)
    catalog_path = history.root / "catalog.sqlite"
    catalog_path.unlink()
    with Catalog.open(collection) as catalog:
        assert len(catalog.runs()) == 4
        assert [a.status for a in catalog.history(history.url("dying"))] == ["archived", "failed", "failed", "failed"]
    catalog_path.write_bytes(b"not a database")
    with Catalog.open(collection) as catalog:
        assert len(catalog.history(history.url("stable"))) == 4


@pytest.fixture(scope="module")
def wayback(history: History) -> Iterator[str]:
    with run_wayback(history.out) as base:
        yield base


def test_pywb_replays_a_revisit(history: History, wayback: str) -> None:
    capture = history.manifest_citation(2, "stable")["capture"]
    assert capture["revisit_of"]
    status, body, _ = fetch(f"{wayback}/{COLLECTION}/{capture['timestamp']}id_/{capture['final_url']}")
    assert status == 200
    assert b"The stable report explains" in body


def test_html_report_renders_in_chromium(history: History) -> None:
    from tests.browser import artifact_path, chromium

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        page.goto(history.html.as_uri())
        page.locator("tr.citation.drifted details summary").first.click()
        assert page.locator("tr.citation").count() == len(PAGES)
        page.screenshot(path=str(artifact_path("recrawl-report.png")), full_page=True)
        page.click("button[data-filter=dead]")
        visible = [row for row in page.locator("tr.citation").all() if row.is_visible()]
        assert len(visible) == 3
