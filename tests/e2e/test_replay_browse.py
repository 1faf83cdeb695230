"""`citearchive replay` serves the e2e crawl: every capture through pywb, the landing page, Chromium following a citation."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser import artifact_path, chromium
from tests.e2e.test_archive_run import COLLECTION, ArchivedRun, archived  # noqa: F401 - module fixture
from tests.e2e.test_replay_pywb import EXPECTED_TEXT
from tests.replayserver import ReplayServer, get, replay_server


@pytest.fixture(scope="module")
def replay(archived: ArchivedRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayServer]:  # noqa: F811
    with replay_server(archived.out, tmp_path_factory.mktemp("replay")) as server:
        yield server


def indexed(archived: ArchivedRun) -> list[tuple[str, str, dict[str, Any]]]:  # noqa: F811
    lines = (archived.collection_dir / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        _, timestamp, fields = line.split(" ", 2)
        data = json.loads(fields)
        out.append((timestamp, data["url"], data))
    return out


def body_text(reply_body: bytes, encoding: str | None) -> str:
    return (gzip.decompress(reply_body) if encoding == "gzip" else reply_body).decode("utf-8", "replace")


def test_every_indexed_capture_replays_through_the_archive_origin(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    captures = indexed(archived)
    assert len(captures) >= 10
    for timestamp, url, data in captures:
        reply = get(replay.archive, f"/{COLLECTION}/{timestamp}id_/{url}", {"Accept-Encoding": "identity"})
        assert reply.status == int(data.get("status", 200)), url
        for path, text in EXPECTED_TEXT.items():
            if url == f"{archived.sites}{path}" and reply.status == 200:
                assert text in body_text(reply.body, reply.headers.get("Content-Encoding")), url
    assert replay.violations.read_text() == ""


def test_each_archived_citation_replays_framed_and_rewritten(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    replayed = 0
    for citation in archived.citations().values():
        capture = citation["capture"]
        if capture["status"] != "archived":
            continue
        top = get(replay.archive, f"/{COLLECTION}/{capture['timestamp']}/{capture['final_url']}")
        assert top.status == 200 and b"<iframe" in top.body, citation["url"]
        inner = get(replay.archive, f"/{COLLECTION}/{capture['timestamp']}mp_/{capture['final_url']}")
        assert inner.status == 200, citation["url"]
        csp = inner.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "sandbox allow-scripts" in csp
        if capture["mime"] == "text/html":
            assert b"wbinfo" in inner.body  # pywb's banner and wombat are inserted
        replayed += 1
    assert replayed >= 7


def test_memento_timegate_and_timemap(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    url = f"{archived.sites}/pages/plain.html"
    timemap = get(replay.archive, f"/{COLLECTION}/timemap/link/{url}")
    assert timemap.status == 200
    assert "application/link-format" in timemap.headers["Content-Type"]
    assert b'rel="memento"' in timemap.body and b'rel="original"' in timemap.body
    accept = {"Accept-Datetime": "Mon, 01 Jan 2024 00:00:00 GMT"}
    frame = get(replay.archive, f"/{COLLECTION}/{url}", accept)  # the framed TimeGate
    assert frame.status == 200 and frame.headers["Vary"] == "accept-datetime"
    assert 'rel="timegate"' in frame.headers["Link"] and 'rel="memento"' in frame.headers["Link"]
    gate = get(replay.archive, f"/{COLLECTION}/mp_/{url}", accept)  # RFC 7089 pattern 2.2: 200 + Memento-Datetime
    assert gate.status == 200 and gate.headers["Memento-Datetime"]
    assert b"The plain page text." in gate.body


def test_landing_lists_posts_citations_statuses_and_reasons(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    page = get(replay.landing, "/")
    assert page.status == 200
    assert "Set-Cookie" not in page.headers
    html = page.body.decode()
    assert "Sources and citations" in html and "a page that has gone missing" in html
    assert "HTTP 404" in html and 'class="reason"' in html
    plain = f"{archived.sites}/pages/plain.html"
    capture = archived.citations()[plain]["capture"]
    assert f'{replay.archive}/{COLLECTION}/{capture["timestamp"]}/{plain}' in html
    assert f'href="{plain}"' in html  # the live URL too
    api = json.loads(get(replay.landing, "/api/collections").body)
    (collection,) = api["collections"]
    assert collection["name"] == COLLECTION
    assert collection["posts"][0]["counts"]["failed"] == 2


def test_post_page_links_each_citation_in_the_text(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    post_id = archived.manifest["posts"][0]["post_id"]
    page = get(replay.landing, f"/c/{COLLECTION}/{quote(post_id)}")
    assert page.status == 200
    html = page.body.decode()
    assert "Every claim needs a source." in html
    plain = archived.citations()[f"{archived.sites}/pages/plain.html"]
    assert f'data-n="{plain["n"]}" href="{replay.archive}/{COLLECTION}/' in html
    assert ">a plain page</a>" in html


@pytest.mark.parametrize(
    ("origin", "target"),
    [
        ("archive", "/static/../../../../../../etc/passwd"),
        ("archive", "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
        ("archive", "/static/_/e2e/..%2f..%2fmanifests/x.json"),
        ("archive", "/e2e/..%252f..%252f..%252fetc/passwd"),
        ("archive", "/..%5c..%5c..%5cetc%5cpasswd"),
        ("landing", "/c/..%2f..%2f..%2fetc/passwd"),
        ("landing", "/c/e2e/../../../../etc/passwd"),
        ("landing", "/%2e%2e/%2e%2e/etc/passwd"),
    ],
)
def test_no_path_reads_outside_the_collections(origin: str, target: str, replay: ReplayServer) -> None:
    base = replay.archive if origin == "archive" else replay.landing
    reply = get(base, target)
    assert reply.status in (400, 404), (target, reply.status)
    assert b"root:" not in reply.body and b"citearchive-manifest" not in reply.body


def test_chromium_opens_a_citation_from_the_landing_page(archived: ArchivedRun, replay: ReplayServer) -> None:  # noqa: F811
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        seen: list[str] = []
        context.on("request", lambda request: seen.append(request.url))
        page = context.new_page()
        page.goto(replay.landing + "/")
        page.screenshot(path=str(artifact_path("replay-landing.png")), full_page=True)
        page.click("a.post-link")
        page.wait_for_selector("section.post-text a.cite")
        with context.expect_page() as opened:
            page.click('section.post-text a.cite:has-text("a plain page")')
        archived_page = opened.value
        archived_page.wait_for_load_state()
        assert archived_page.url.startswith(replay.archive + "/")
        frame = archived_page.frame_locator("iframe#replay_iframe")
        frame.locator("text=The plain page text.").wait_for(timeout=20000)
        archived_page.screenshot(path=str(artifact_path("replay-citation.png")))
        assert context.cookies() == []  # neither origin set a cookie for this page
        context.close()
    assert seen
    assert all(url.startswith("http://127.0.0.1:") for url in seen), [u for u in seen if not u.startswith("http://127.0.0.1:")]
