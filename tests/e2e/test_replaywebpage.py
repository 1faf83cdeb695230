"""The exported WACZ opens in ReplayWeb.page (pinned in tests/replaywebpage/), served from a static origin to Chromium.

Every page of pages/pages.jsonl is listed in the collection view and replays, in the replay
iframe, with the <title> its archived response carries (a PDF: its media type and bytes); the
browser's way off 127.0.0.1 is closed (tests/refusingproxy.py), so nothing from elsewhere was needed.
The main page (the post) is listed first and, for the demo, replays with its stylesheet and web font.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.browser import artifact_path, chromium
from tests.conftest import REPO_ROOT, run_cli
from tests.e2e.test_archive_run import COLLECTION, ArchivedRun, archived  # noqa: F401 - module fixture
from tests.rangeserver import static_server
from tests.refusingproxy import RefusingProxy, refusing_proxy

RWP_PACKAGE = REPO_ROOT / "tests" / "replaywebpage" / "node_modules" / "replaywebpage"
APP_FILES = ("index.html", "ui.js", "sw.js")  # the app as https://replayweb.page serves it
REPLAY_FRAME = 'iframe[name="___wb_replay_top_frame"]'  # wabac.js's name for the replayed page's frame
# Honest margins for a loaded 2-core machine: the first load registers the service worker and
# reads the zip's central directory, pages.jsonl and the index; a page then takes ~1 s.
LOAD_TIMEOUT_MS = 90_000
PAGE_TIMEOUT_S = 45.0


def _export(out: Path, collection: str, tmp: Path) -> Path:
    dest = tmp / f"{collection}.wacz"
    run = run_cli(["export", "--wacz", str(dest), "--out", str(out), "--collection", collection], tmp)
    assert run.returncode == 0, run.stderr
    return dest


@pytest.fixture(scope="module")
def demo_wacz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a user exports first: ``citearchive demo`` then ``export --wacz``."""
    tmp = tmp_path_factory.mktemp("rwp-demo")
    demo = run_cli(["demo", "--out", str(tmp / "out"), "--collection", "demo"], tmp)
    assert demo.returncode == 0, demo.stderr[-3000:]
    return _export(tmp / "out", "demo", tmp)


@pytest.fixture(scope="module")
def e2e_wacz(archived: ArchivedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    return _export(archived.out, COLLECTION, tmp_path_factory.mktemp("rwp-e2e"))


@pytest.fixture(params=["demo", "e2e"])
def wacz(request: pytest.FixtureRequest) -> Path:
    require_replaywebpage()  # before the crawl and export it would have been for
    return request.getfixturevalue(f"{request.param}_wacz")  # type: ignore[no-any-return]


def require_replaywebpage() -> None:
    if all((RWP_PACKAGE / name).is_file() for name in APP_FILES):
        return
    if shutil.which("npm") is None:
        pytest.skip("npm is missing: install Node.js with npm; ./scripts/test then installs ReplayWeb.page (tests/replaywebpage)")
    pytest.skip("ReplayWeb.page is not installed: run `npm ci --prefix tests/replaywebpage` (./scripts/test does)")


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.title: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside = tag == "title" and self.title is None

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.inside:
            self.inside = False
            self.title = self.title or ""

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.title = (self.title or "") + data


def document_title(html: str) -> str:
    """The first <title>'s text, whitespace stripped and collapsed as ``document.title`` does."""
    parser = _TitleParser()
    parser.feed(html)
    parser.close()
    return re.sub(r"[ \t\n\f\r]+", " ", parser.title or "").strip()


def main_page_of(wacz: Path) -> str:
    with zipfile.ZipFile(wacz) as archive:
        return str(json.loads(archive.read("datapackage.json"))["mainPageURL"])


#: What the demo post's archived stylesheet and icon font (crawler/demo/site/blogg/) do to it.
DEMO_LOOK = {"background": "rgb(253, 252, 248)", "font": "Agren ikoner:loaded"}
_LOOK = """async () => {
  await document.fonts.ready;
  return {
    background: getComputedStyle(document.body).backgroundColor,
    fonts: Array.from(document.fonts).map(f => f.family.replace(/"/g, "") + ":" + f.status),
  };
}"""


def look_of(page: Any, url: str) -> dict[str, Any]:
    """The computed background and web fonts of the replay iframe showing ``url`` ({} if none does)."""
    from playwright.sync_api import Error

    for handle in page.locator(REPLAY_FRAME).element_handles():
        frame = handle.content_frame()
        if frame is not None and frame.url.endswith("mp_/" + url):
            try:
                return dict(frame.evaluate(_LOOK))
            except Error as error:
                return {"error": str(error)}
    return {}


def pages_of(wacz: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(wacz) as archive:
        lines = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines() if line]
    return [line for line in lines if "format" not in line]


@dataclass(frozen=True)
class Archived:
    """What replaying a page must show: its archived media type, and the <title> of HTML or the digest of the rest."""

    content_type: str
    title: str | None
    sha256: str


def archived_pages(wacz: Path) -> dict[str, Archived]:
    """URL → its archived response, read from the WARCs inside the WACZ (content-encoding removed)."""
    found: dict[str, Archived] = {}
    with zipfile.ZipFile(wacz) as archive:
        for name in archive.namelist():
            if not name.startswith("archive/"):
                continue
            with archive.open(name) as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type != "response" or record.http_headers.get_statuscode() != "200":
                        continue
                    header = record.http_headers.get_header("Content-Type", "")
                    content_type = header.split(";")[0].strip().lower()
                    body = record.content_stream().read()
                    charset = re.search(r"charset=([\w-]+)", header)
                    title = document_title(body.decode(charset.group(1) if charset else "utf-8", "replace")) if "html" in content_type else None
                    found.setdefault(
                        record.rec_headers.get_header("WARC-Target-URI"), Archived(content_type, title, hashlib.sha256(body).hexdigest())
                    )
    return found


def listed_urls(page: Any, count: int) -> list[str]:
    """The page URLs the collection view lists once it has loaded (given ``count`` s to list them all)."""
    from playwright.sync_api import expect

    entries, error = page.locator("wr-page-entry"), page.locator("wr-loader .error")
    expect(entries.or_(error).first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    if error.count():
        pytest.fail(f"ReplayWeb.page could not load the WACZ: {error.first.inner_text()!r}")
    try:
        expect(entries).to_have_count(count, timeout=15_000)
    except AssertionError:
        pass  # the caller compares the lists, which says more than a count
    marks = page.locator("wr-page-entry .page-url keyword-mark")  # the URL, in the title of ReplayWeb.page's highlighter
    return [str(url) for url in marks.evaluate_all("marks => marks.map(mark => mark.title)")]


@dataclass(frozen=True)
class Replayed:
    frame_url: str
    content_type: str
    title: str
    sha256: str = ""

    def shows(self, want: Archived) -> bool:
        if self.content_type != want.content_type:
            return False
        return self.title == want.title if want.title is not None else self.sha256 == want.sha256


# The bytes ReplayWeb.page's service worker serves at a replay URL, as a hex SHA-256.
FETCH_SHA256 = """async url => {
  const response = await fetch(url);
  const digest = await crypto.subtle.digest("SHA-256", await response.arrayBuffer());
  return Array.from(new Uint8Array(digest), byte => byte.toString(16).padStart(2, "0")).join("");
}"""


def replayed(page: Any, url: str, want: Archived) -> Replayed:
    """The replay iframe once it shows ``url`` as archived (its title, or for a PDF its bytes), or the last seen."""
    from playwright.sync_api import Error

    seen = Replayed("", "", "")
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while time.monotonic() < deadline:
        for handle in page.locator(REPLAY_FRAME).element_handles():
            frame = handle.content_frame()
            if frame is None or not frame.url.endswith("mp_/" + url):
                continue
            try:
                content_type, title = frame.evaluate("[document.contentType, document.title]")
                seen = Replayed(frame.url, content_type, title)
                if want.title is None and content_type == want.content_type:
                    seen = Replayed(frame.url, content_type, title, page.evaluate(FETCH_SHA256, frame.url))
            except Error:  # the frame navigated while asked: ask again
                continue
            if seen.shows(want):
                return seen
        time.sleep(0.1)
    return seen


def _ts14(iso: str) -> str:
    return re.sub(r"\D", "", iso)[:14]


def _offsite(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1"


def _closed_way_out(page: Any, proxy: RefusingProxy) -> bool:
    """A fetch for another host reaches the refusing proxy, never the network."""
    page.evaluate("fetch('http://offsite.invalid/probe', {mode: 'no-cors'}).catch(() => null)")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "GET http://offsite.invalid/probe" in proxy.refused:
            return True
        time.sleep(0.05)
    return False


def test_replaywebpage_lists_and_replays_every_page(wacz: Path, tmp_path: Path) -> None:
    pages = pages_of(wacz)
    expected = archived_pages(wacz)
    assert pages, "the WACZ lists no page"
    main_page = main_page_of(wacz)
    assert pages[0]["url"] == main_page, "the post, the WACZ's main page, is listed first"
    assert all(page["url"] in expected for page in pages), "every listed page has an archived response"
    assert all(expected[page["url"]].title != "" for page in pages), "every HTML page has a <title> to look for"
    site = tmp_path / "site"
    site.mkdir()
    for name in APP_FILES:
        (site / name).symlink_to(RWP_PACKAGE / name)
    (site / wacz.name).symlink_to(wacz)
    report: dict[str, Any] = {"wacz": wacz.name, "replaywebpage": json.loads((RWP_PACKAGE / "package.json").read_text())["version"]}
    offsite: list[str] = []
    results: list[tuple[str, Replayed]] = []
    started = time.monotonic()
    with refusing_proxy() as proxy, static_server(site, tmp_path / "requests.jsonl") as server, chromium(proxy.url) as browser:
        report["chromium"] = browser.version
        context = browser.new_context()
        # Pages, workers and the service worker: every request playwright sees that leaves 127.0.0.1.
        context.on("request", lambda request: offsite.append(request.url) if _offsite(request.url) else None)
        page = context.new_page()
        app = f"{server.url}/?{urlencode({'source': f'{server.url}/{wacz.name}'})}"
        page.goto(f"{app}#view=pages")
        listed = listed_urls(page, len(pages))
        report["collection_s"] = round(time.monotonic() - started, 2)
        page.screenshot(path=str(artifact_path(f"replaywebpage-{wacz.stem}-pages.png")))
        for entry in pages:
            page.goto(f"{app}#{urlencode({'view': 'pages', 'url': entry['url'], 'ts': _ts14(entry['ts'])})}")
            results.append((entry["url"], replayed(page, entry["url"], expected[entry["url"]])))
            if entry["url"] == main_page:
                report["main_page_look"] = look_of(page, main_page)
        report["replay_s"] = round(time.monotonic() - started - report["collection_s"], 2)
        page.screenshot(path=str(artifact_path(f"replaywebpage-{wacz.stem}-last-page.png")))
        # What the app, its workers and the replayed pages asked of other hosts (all refused), before the probe.
        report["offsite_requests"] = list(offsite)
        closed = _closed_way_out(page, proxy)
    report["refused_by_proxy"] = proxy.refused  # also Chromium's own calls home, which its flags do not all stop
    artifact_path(f"replaywebpage-{wacz.stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"ReplayWeb.page {report['replaywebpage']} in Chromium {report['chromium']}: {report}")

    assert sorted(listed) == sorted(page["url"] for page in pages)
    if wacz.stem == "demo":  # the post replays with its look: its requisites are in the WACZ
        look = report["main_page_look"]
        assert look.get("background") == DEMO_LOOK["background"] and DEMO_LOOK["font"] in look.get("fonts", []), look
    wrong = [(url, seen, expected[url]) for url, seen in results if not seen.shows(expected[url])]
    assert not wrong, f"{len(wrong)} of {len(pages)} page(s) did not replay as archived: {wrong}"
    assert closed, "the refusing proxy never saw the probe: the browser's way off 127.0.0.1 was not closed"
    # ReplayWeb.page read the WACZ by ranges (the zip's end, local headers, member data).
    ranges = [r for r in server.requests() if r["path"] == f"/{wacz.name}" and r["status"] == 206]
    assert len(ranges) >= 3, server.requests()

