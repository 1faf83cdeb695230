"""The post page replays with its look: its own requisites are archived (once), counted, and replayed from the archive alone."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.manifest import load_schema
from crawler.demo import POST_PATH, POST_SITE, demo_sites
from tests.browser import artifact_path, chromium
from tests.conftest import CliRun, run_cli
from tests.replayserver import get, replay_server
from tests.wayback import run_wayback

COLLECTION = "citations"
#: What the demo post's page needs: its stylesheet, the logo it shows, and what the stylesheet loads.
POST_REQUISITES = ("/style.css", "/bilder/logo.svg", "/typsnitt/ikoner.woff", "/bilder/vagor.svg")
#: Set by the blog's style.css (body{background:#fdfcf8}); the browser's default is transparent.
STYLED_BACKGROUND = "rgb(253, 252, 248)"
ICON_FONT = "Agren ikoner"


@dataclass
class DemoRun:
    cli: CliRun
    out: Path
    post_url: str

    @property
    def collection(self) -> Path:
        return self.out / "collections" / COLLECTION

    @property
    def manifest(self) -> dict[str, Any]:
        (path,) = [p for p in (self.collection / "manifests").glob("*.json") if p.name.count(".") == 1]
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]

    @property
    def post(self) -> dict[str, Any]:
        (post,) = self.manifest["posts"]
        return post  # type: ignore[no-any-return]

    @property
    def requisite_urls(self) -> list[str]:
        origin = self.post_url.removesuffix(POST_PATH)
        return [origin + path for path in POST_REQUISITES]

    def responses(self) -> Counter[tuple[str, str]]:
        """(target URI, WARC file) of every response or revisit record of the collection."""
        counts: Counter[tuple[str, str]] = Counter()
        for path in (self.collection / "archive").glob("*.warc.gz"):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type in ("response", "revisit"):
                        counts[(record.rec_headers["WARC-Target-URI"], path.name)] += 1
        return counts

    def fetches(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (url, _), n in self.responses().items():
            counts[url] += n
        return counts


def archive_demo(post_url: str, tmp: Path, name: str, *flags: str, exit_code: int = 0) -> DemoRun:
    out = tmp / name
    cli = run_cli(["archive", post_url, "--out", str(out), "--allow-private", *flags], tmp)
    assert cli.returncode == exit_code, cli.stderr[-3000:]
    assert cli.violations == []
    return DemoRun(cli, out, post_url)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """The demo post archived by one process, with --no-requisites, and by two processes.

    The demo's sites stop before any test replays: whatever the post needs must come from the archive.
    """
    tmp = tmp_path_factory.mktemp("post-requisites")
    with demo_sites() as sites:
        post_url = sites.url(POST_SITE, POST_PATH)
        return {
            "single": archive_demo(post_url, tmp, "single"),
            "no_requisites": archive_demo(post_url, tmp, "bare", "--no-requisites"),
            "two_processes": archive_demo(post_url, tmp, "double", "--processes", "2"),
        }


def test_the_post_pages_requisites_are_archived_and_counted(runs: dict[str, DemoRun]) -> None:
    run = runs["single"]
    jsonschema.validate(run.manifest, load_schema())
    assert run.post["snapshot"]["status"] == "archived"
    assert run.post["requisites"] == {"archived": len(POST_REQUISITES), "failed": []}
    assert list(run.post)[:5] == ["source", "url", "title", "snapshot", "requisites"]  # next to what they serve
    fetches = run.fetches()
    assert {url: fetches[url] for url in run.requisite_urls} == dict.fromkeys(run.requisite_urls, 1)
    assert fetches[run.post_url] == 1
    # Requisites never become citations: the demo's figures stand.
    statuses = Counter(c["capture"]["status"] for c in run.post["citations"])
    assert statuses == {"archived": 10, "failed": 1}
    print(f"\npost requisites: {len(POST_REQUISITES)} requests, {requisite_bytes(run)} bytes of WARC records")


def requisite_bytes(run: DemoRun) -> int:
    """The compressed size of the post's requisites' request and response records."""
    urls = set(run.requisite_urls)
    total = 0
    for path in (run.collection / "archive").glob("*.warc.gz"):
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream)
            for record in iterator:
                if record.rec_headers.get_header("WARC-Target-URI") in urls:
                    iterator.read_to_end(record)
                    total += iterator.get_record_length()
    return total


def test_no_requisites_leaves_the_post_pages_out(runs: dict[str, DemoRun]) -> None:
    run = runs["no_requisites"]
    assert run.post["snapshot"]["status"] == "archived"
    assert "requisites" not in run.post
    assert all("requisites" not in c for c in run.post["citations"])
    fetches = run.fetches()
    assert [url for url in run.requisite_urls if fetches[url]] == []


def test_two_processes_fetch_the_post_pages_requisites_once(runs: dict[str, DemoRun]) -> None:
    run = runs["two_processes"]
    jsonschema.validate(run.manifest, load_schema())
    assert run.post["requisites"] == {"archived": len(POST_REQUISITES), "failed": []}
    responses = run.responses()
    for url in run.requisite_urls:
        records = {warc: n for (uri, warc), n in responses.items() if uri == url}
        assert sum(records.values()) == 1, (url, records)
        (warc,) = records
        assert re.search(r"-p0-\d{20}-\d{5}\.warc", warc), warc  # by the process owning the post
    parts = {re.search(r"-(p\d)-", warc).group(1) for _, warc in responses}  # type: ignore[union-attr]
    assert parts == {"p0", "p1"}  # two processes did crawl
    single = runs["single"].post["citations"]
    assert [c.get("requisites") for c in run.post["citations"]] == [c.get("requisites") for c in single]


# ------------------------------------------------------------------ replay in the browser


@dataclass
class Seen:
    """One page load: every request, the status or failure each got, and what the archived page looks like."""

    requests: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    look: dict[str, Any] = field(default_factory=dict)


# What the stylesheet, the logo and the icon font did to the archived page.
_LOOK = """async () => {
  await document.fonts.ready;
  const logo = document.querySelector("img.logo");
  const icon = document.querySelector(".ikon");
  return {
    background: getComputedStyle(document.body).backgroundColor,
    header_image: getComputedStyle(document.querySelector("header")).backgroundImage,
    icon_font: icon ? getComputedStyle(icon).fontFamily : null,
    logo_width: logo && logo.complete ? logo.naturalWidth : 0,
    fonts: Array.from(document.fonts).map(f => f.family.replace(/"/g, "") + ":" + f.status),
  };
}"""
_ARCHIVED_FRAME = re.compile(r"/\d{14}mp_/")


def open_post(browser: Any, url: str, screenshot: str) -> Seen:
    seen = Seen()
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = context.new_page()
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("requestfailed", lambda request: seen.failures.update({request.url: request.failure or "failed"}))
        page.on("response", lambda response: seen.statuses.update({response.url: response.status}))
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        (frame,) = [f for f in page.frames if _ARCHIVED_FRAME.search(f.url)]  # pywb's framed replay
        seen.look = frame.evaluate(_LOOK)
        page.screenshot(path=str(artifact_path(screenshot)), full_page=True)
    finally:
        context.close()
    return seen


def check_replayed_with_its_look(seen: Seen, run: DemoRun, origin: str) -> None:
    fetched = [u for u in seen.requests if not u.startswith(("data:", "blob:", "about:"))]
    assert [u for u in fetched if not u.startswith(origin + "/")] == []  # nothing left the replay origin
    broken = {u: seen.failures.get(u) or seen.statuses.get(u) for u in fetched
              if u in seen.failures or seen.statuses.get(u, 0) >= 400}  # fmt: skip
    assert broken == {}
    for url in run.requisite_urls:  # each served from the archive
        assert [u for u in fetched if u.endswith("_/" + url) and seen.statuses.get(u) == 200], (url, fetched)
    look = seen.look
    assert look["background"] == STYLED_BACKGROUND, look
    assert "vagor.svg" in look["header_image"], look
    assert look["logo_width"] == 48, look
    assert ICON_FONT in look["icon_font"] and f"{ICON_FONT}:loaded" in look["fonts"], look


def test_the_post_replays_with_its_look_in_pywb(runs: dict[str, DemoRun]) -> None:
    run = runs["single"]
    timestamp = run.post["snapshot"]["timestamp"]
    with chromium() as browser, run_wayback(run.out) as origin:
        seen = open_post(browser, f"{origin}/{COLLECTION}/{timestamp}/{run.post_url}", "post-requisites-wayback.png")
    print(f"\npost in wayback: {len(seen.requests)} requests, look {seen.look}")
    check_replayed_with_its_look(seen, run, origin)


def test_the_post_replays_with_its_look_through_citearchive_replay(
    runs: dict[str, DemoRun], tmp_path: Path
) -> None:
    run = runs["single"]
    with replay_server(run.out, tmp_path) as replay:
        landing = get(replay.landing, f"/c/{COLLECTION}/{run.post['post_id']}").body.decode()
        (link,) = re.findall(r'<a href="([^"]+)"[^>]*>archived post</a>', landing)
        assert link.startswith(replay.archive + "/")
        with chromium() as browser:
            seen = open_post(browser, link.replace("&amp;", "&"), "post-requisites-replay.png")
        assert replay.violations.read_text() == ""
    print(f"\npost in citearchive replay: {len(seen.requests)} requests, look {seen.look}")
    check_replayed_with_its_look(seen, run, replay.archive)


# ------------------------------------------------------------------ resuming


@pytest.fixture
def sites() -> Iterator[str]:
    with demo_sites() as group:
        yield group.url(POST_SITE, POST_PATH)


def test_a_resumed_run_fetches_only_the_post_pages_missing_requisites(sites: str, tmp_path: Path) -> None:
    # The spider closes once the post's item is scraped; the stylesheet (a second after the post,
    # --delay 1) may still land, but what it loads is never requested.
    first = archive_demo(sites, tmp_path, "out", "--delay", "1", "-s", "CLOSESPIDER_ITEMCOUNT=1", exit_code=4)
    missing = [f["url"] for f in first.post["requisites"]["failed"] if f["reason"].startswith("not attempted")]
    assert missing and first.post["snapshot"]["status"] == "archived", first.post["requisites"]
    before = first.fetches()
    again = archive_demo(sites, tmp_path, "out")
    assert "Resuming the interrupted run" in again.cli.stderr + again.cli.stdout
    assert again.post["requisites"] == {"archived": len(POST_REQUISITES), "failed": []}
    after = again.fetches()
    assert after[sites] == before[sites] == 1  # the post page is not fetched again
    assert {url: after[url] - before[url] for url in again.requisite_urls} == {
        url: int(url in missing) for url in again.requisite_urls
    }
