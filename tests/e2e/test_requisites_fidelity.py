"""Cited pages replay in headless Chromium with every requisite from the archive and nothing live."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.browser import artifact_path, chromium
from tests.conftest import CliRun, run_cli
from tests.mocksite.render import FONT_PATH, RENDER_PAGES, RENDER_POST_PATH, font_bytes
from tests.wayback import run_wayback

COLLECTION = "render"
#: Requisites archived per cited page (a URL shared by several pages counts for each).
EXPECTED_ARCHIVED = {"/render/images.html": 20, "/render/styles.html": 8, "/render/frame.html": 6}


@dataclass
class RenderedRun:
    run: CliRun
    out: Path
    manifest: dict[str, Any]
    sites: str
    hits: list[str]  # targets the sites server answered during the crawl

    def citations(self) -> dict[str, dict[str, Any]]:
        return {c["url"]: c for post in self.manifest["posts"] for c in post["citations"]}

    def records(self) -> Iterator[Any]:
        for path in sorted((self.out / "collections" / COLLECTION / "archive").glob("*.warc.gz")):
            with path.open("rb") as stream:
                yield from ArchiveIterator(stream)


@pytest.fixture(scope="module")
def rendered(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> RenderedRun:
    tmp = tmp_path_factory.mktemp("requisites")
    out = tmp / "out"
    before = len(mocksite.received("sites"))
    args = ["archive", mocksite.blog + RENDER_POST_PATH, "--out", str(out), "--collection", COLLECTION]
    run = run_cli([*args, "--allow-private"], tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    hits = [entry["target"] for entry in mocksite.received("sites")[before:]]
    # RUN_ID.json only: other files (RUN_ID.run.json, …) may sit next to the manifest.
    (manifest_path,) = [p for p in (out / "collections" / COLLECTION / "manifests").glob("*.json") if p.name.count(".") == 1]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return RenderedRun(run, out, manifest, mocksite.sites, hits)


def test_each_requisite_fetched_once_and_counted_for_every_page(rendered: RenderedRun) -> None:
    assert rendered.run.violations == []
    citations = rendered.citations()
    for page, expected in EXPECTED_ARCHIVED.items():
        citation = citations[rendered.sites + page]
        assert citation["capture"]["status"] == "archived"
        failed = citation["requisites"]["failed"]
        if font_bytes() is None and page == "/render/styles.html":  # fonts-dejavu-core missing
            print(f"font checks skipped: {FONT_PATH} needs fonts-dejavu-core (scripts/system-packages)")
            failed = [f for f in failed if not f["url"].endswith(FONT_PATH)]
            expected -= 1
        assert (citation["requisites"]["archived"], failed) == (expected, []), page
    # css/shared.css and img/shared.png serve all three pages but were fetched once.
    counts = Counter(target for target in rendered.hits if target.startswith("/render/") and "probe" not in target)
    assert counts["/render/css/shared.css"] == 1
    assert {target: n for target, n in counts.items() if n != 1} == {}
    assert "/render/img/missing.png" not in counts


def test_requisites_are_request_response_pairs_with_their_target_uri(rendered: RenderedRun) -> None:
    responses: dict[str, str] = {}
    requests: dict[str, str] = {}
    for record in rendered.records():
        uri = record.rec_headers.get_header("WARC-Target-URI")
        if record.rec_type == "response":
            responses[uri] = record.rec_headers.get_header("WARC-Record-ID")
        elif record.rec_type == "request":
            requests[uri] = record.rec_headers.get_header("WARC-Concurrent-To")
    fetched = {rendered.sites + target for target in rendered.hits if "probe" not in target}
    for url in fetched:
        assert url in responses, url
        assert requests[url] == responses[url], url
    index = (rendered.out / "collections" / COLLECTION / "indexes" / "index.cdxj").read_text()
    port = rendered.sites.rsplit(":", 1)[1]
    assert f"1,0,0,127:{port})/render/fonts/mock-sans.ttf " in index


# ------------------------------------------------------------------ replay in the browser

_REPLAY = re.compile(r"^http://127\.0\.0\.1:\d+/" + COLLECTION + r"/(\d{14})?([a-z]{2}_)?/(?P<url>.+)$")


@dataclass
class Visit:
    """Every request one page load made, with the status or failure each got."""

    requests: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    fonts: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)


_IMAGES_STATE = "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.id || i.src)"
_FONTS_STATE = "() => document.fonts.ready.then(() => Array.from(document.fonts).map(f => f.family + ':' + f.status))"
# pywb's framed replay: a top frame of its own, the archived page in an iframe at TIMESTAMPmp_/URL.
_ARCHIVED_FRAME = re.compile(r"/\d{14}mp_/")


def visit(browser: Any, url: str, screenshot: Path | None = None) -> Visit:
    result = Visit()
    context = browser.new_context(viewport={"width": 1000, "height": 1400}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.on("request", lambda request: result.requests.append(request.url))
        page.on("requestfailed", lambda request: result.failures.update({request.url: request.failure or "failed"}))
        page.on("response", lambda response: result.statuses.update({response.url: response.status}))
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)
        for frame in page.frames:
            result.broken_images += frame.evaluate(_IMAGES_STATE)
            if frame.parent_frame is None or _ARCHIVED_FRAME.search(frame.url):
                result.fonts += [font for font in frame.evaluate(_FONTS_STATE) if font.startswith("MockSans")]
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return result


def _archived_status(origin: str, timestamp: str, url: str) -> int:
    """The status pywb replays for ``url`` at ``timestamp``, unrewritten (``id_``)."""
    try:
        with urllib.request.urlopen(f"{origin}/{COLLECTION}/{timestamp}id_/{url}", timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _fetched(visit: Visit) -> set[str]:
    return {url for url in visit.requests if not url.startswith(("data:", "blob:", "about:"))}


def test_every_cited_page_replays_in_chromium_from_the_archive_alone(rendered: RenderedRun, mocksite: Any) -> None:
    citations = rendered.citations()
    with chromium() as browser:
        # What each page loads live: the replay must load the same URLs, all from the archive.
        live = {page: _fetched(visit(browser, rendered.sites + page)) for page in RENDER_PAGES}
        before = {server: len(mocksite.received(server)) for server in ("sites", "blog")}
        figures: dict[str, Any] = {"pages": {}, "leaks": [], "missing": [], "live_hits_during_replay": 0}
        with run_wayback(rendered.out) as origin:
            for page in RENDER_PAGES:
                capture = citations[rendered.sites + page]["capture"]
                name = page.rsplit("/", 1)[1].removesuffix(".html")
                # Framed replay, as a reader opens it (the top frame would send mp_ there anyway).
                replay_url = f"{origin}/{COLLECTION}/{capture['timestamp']}/{rendered.sites + page}"
                seen = visit(browser, replay_url, artifact_path(f"requisites-{name}.png"))
                leaks = sorted(url for url in _fetched(seen) if not url.startswith(origin + "/"))
                served: set[str] = set()
                missing = []
                for url in _fetched(seen) - set(leaks):
                    status = seen.statuses.get(url)
                    original = _REPLAY.match(url)
                    if url in seen.failures or status is None or status >= 400:
                        missing.append(f"{url} ({seen.failures.get(url) or status})")
                    elif original is not None:
                        served.add(original["url"])
                # A top-level page's icon is not loaded for a page in a frame: ask pywb for it.
                unrequested = sorted(live[page] - served)
                missing += [f"{url} (loaded live, not in the archive)" for url in unrequested
                            if _archived_status(origin, capture["timestamp"], url) != 200]
                figures["pages"][page] = {
                    "requisites_archived": citations[rendered.sites + page].get("requisites", {}).get("archived", 0),
                    "requests_live": len(live[page]),
                    "requests_replayed": len(_fetched(seen)),
                    "from_archive": len(served),
                    "missing": len(missing),
                    "leaks": len(leaks),
                    "broken_images": seen.broken_images,
                    "fonts": seen.fonts,
                    "checked_directly": unrequested,
                    "replay_requests": sorted(_fetched(seen)),
                }
                figures["leaks"] += leaks
                figures["missing"] += missing
        after = {server: len(mocksite.received(server)) for server in ("sites", "blog")}
    figures["live_hits_during_replay"] = sum(after[s] - before[s] for s in after)
    figures["requisites_archived"] = sum(p["requisites_archived"] for p in figures["pages"].values())
    artifact_path("requisites-fidelity.json").write_text(json.dumps(figures, indent=2))
    print(
        "\nrequisite fidelity: archived {a}, missing in replay {m}, leaks {l}, live hits during replay {h}".format(
            a=figures["requisites_archived"], m=len(figures["missing"]), l=len(figures["leaks"]),
            h=figures["live_hits_during_replay"],
        )
    )
    for page, row in figures["pages"].items():
        print(f"  {page}: {json.dumps({k: v for k, v in row.items() if k != 'replay_requests'})}")
    assert figures["leaks"] == []
    if font_bytes() is None:
        figures["missing"] = [entry for entry in figures["missing"] if FONT_PATH not in entry]
    assert figures["missing"] == []
    assert figures["live_hits_during_replay"] == 0
    for page, row in figures["pages"].items():
        assert row["broken_images"] == [], page
        assert row["from_archive"] >= 2, page  # the page itself and at least one requisite
    if font_bytes() is None:
        print(f"  font checks skipped: {FONT_PATH} needs fonts-dejavu-core (scripts/system-packages)")
    else:
        assert figures["pages"]["/render/styles.html"]["fonts"] == ["MockSans:loaded"]
