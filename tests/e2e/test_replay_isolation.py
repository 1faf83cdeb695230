"""Archived pages cannot reach the landing origin, yet their scripts run; a replayed gzip bomb stays bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser import artifact_path, chromium
from tests.conftest import run_cli
from tests.mocksite.canary import BOMB_DECODED_SIZE, BOMB_PATH, CANARY_PATH, bomb_body
from tests.replayserver import ReplayServer, get, replay_server
from tests.wayback import free_port

COLLECTION = "canary"
MAX_DECODED_MIB = 1


@dataclass
class CanaryRun:
    out: Path
    canary_url: str
    bomb_url: str
    server: ReplayServer


@pytest.fixture(scope="module")
def canary(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryRun]:
    tmp = tmp_path_factory.mktemp("canary")
    landing_port, archive_port = free_port(), free_port()
    # The canary learns the landing origin at crawl time, as a page could by guessing ports.
    canary_url = f"{mocksite.sites}{CANARY_PATH}?landing={quote(f'http://127.0.0.1:{landing_port}', safe='')}"
    bomb_url = f"{mocksite.sites}{BOMB_PATH}"
    post = tmp / "canary-post.html"
    post.write_text(
        f'<html><body><article><h1>Canary post</h1><p>See <a href="{canary_url}">the canary</a> and '
        f'<a href="{bomb_url}">the bomb</a> and <a href="{mocksite.sites}/pages/plain.html">a plain page</a>.</p>'
        "</article></body></html>",
        encoding="utf-8",
    )
    out = tmp / "out"
    run = run_cli(["archive", str(post), "--base", mocksite.blog + "/", "--out", str(out), "--collection", COLLECTION, "--allow-private"], tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.violations == []
    with replay_server(
        out, tmp, "--max-decoded", str(MAX_DECODED_MIB), port=landing_port, archive_port=archive_port
    ) as server:
        yield CanaryRun(out, canary_url, bomb_url, server)


def _timestamp(server: ReplayServer, url: str) -> str:
    reply = get(server.archive, f"/{COLLECTION}/cdx?output=json&url={quote(url, safe='')}")
    assert reply.status == 200, reply.body[:300]
    return str(json.loads(reply.body.splitlines()[0])["timestamp"])


def test_landing_api_refuses_other_origins(canary: CanaryRun) -> None:
    server = canary.server
    assert get(server.landing, "/api/collections").status == 200
    for headers in (
        {"Origin": server.archive},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
    ):
        reply = get(server.landing, "/api/collections", headers)
        assert reply.status == 403, headers
        assert "Access-Control-Allow-Origin" not in reply.headers
    assert get(server.landing, "/", {"Host": "attacker.example:80"}).status == 421  # DNS rebinding


def test_canary_scripts_run_but_reach_nothing_of_the_landing_origin(canary: CanaryRun) -> None:
    server = canary.server
    before = len(server.landing_log())
    with chromium() as browser:
        context = browser.new_context()
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.goto(server.landing + "/")
        landing_requests = len(requests)
        with context.expect_page() as opened:
            page.click('a.archived-link[href*="canary/isolation.html"]')
        replayed = opened.value
        frame = replayed.frame_locator("iframe#replay_iframe")
        # Positive control: the canary's script ran in replay (a CSP blocking scripts would fail here).
        frame.locator("#control", has_text="canary script ran").wait_for(timeout=20000)
        frame.locator("#report", has_text='"done":true').wait_for(timeout=20000)
        report = json.loads(frame.locator("#report").inner_text())
        time.sleep(2.5)  # the top-navigation probe fires 1.5 s after load
        frame_urls = [f.url for f in replayed.frames]
        replayed.screenshot(path=str(artifact_path("replay-canary.png")))
        cookies = context.cookies()
        landing_url = page.url
        context.close()
    assert report["opener"] == "null", report  # rel=noopener and COOP sever window.opener
    assert not report.get("openerNavigated")
    assert report["fetch"] != "read the landing API", report
    # pywb's wombat keeps even window['to'+'p'] navigation inside the archive; the CSP sandbox backs it up.
    assert all(url.startswith(server.archive + "/") for url in frame_urls), frame_urls
    assert "citearchive" not in report["cookie"]
    assert landing_url == server.landing + "/"
    assert replayed.url.startswith(server.archive + "/")
    assert cookies == [] or all(c["domain"] == "127.0.0.1" and "/" + COLLECTION in c["path"] for c in cookies)
    after_open = [url for url in requests[landing_requests:] if url.startswith(server.landing)]
    assert after_open == [], after_open
    assert all(url.startswith("http://127.0.0.1:") for url in requests)
    landing_hits = server.landing_log()[before:]
    # Only the test's own visit (and the browser's favicon request for it) reached the landing server.
    lines = {hit.split('"')[1] for hit in landing_hits}
    assert "GET / HTTP/1.1" in lines and lines <= {"GET / HTTP/1.1", "GET /favicon.ico HTTP/1.1"}, landing_hits


def test_replayed_gzip_bomb_is_decoded_with_a_bound(canary: CanaryRun) -> None:
    server = canary.server
    timestamp = _timestamp(server, canary.bomb_url)
    raw = get(server.archive, f"/{COLLECTION}/{timestamp}id_/{canary.bomb_url}", {"Accept-Encoding": "gzip"})
    assert raw.status == 200 and raw.body == bomb_body()  # served as stored, never inflated
    started = time.monotonic()
    rewritten = get(server.archive, f"/{COLLECTION}/{timestamp}mp_/{canary.bomb_url}", {"Accept-Encoding": "identity"})
    elapsed = time.monotonic() - started
    assert rewritten.status == 200
    limit = MAX_DECODED_MIB * 1024 * 1024
    assert limit // 2 < len(rewritten.body) < limit + 64 * 1024 < BOMB_DECODED_SIZE
    peak_kib = int(next(line for line in Path(f"/proc/{server.pid}/status").read_text().splitlines() if line.startswith("VmHWM")).split()[1])
    print(f"bomb: {len(rewritten.body)} bytes out of {BOMB_DECODED_SIZE} in {elapsed:.2f} s; replay peak RSS {peak_kib // 1024} MiB")
    assert peak_kib < 100 * 1024 + BOMB_DECODED_SIZE // 1024  # nowhere near holding the inflated body
    assert get(server.archive, f"/{COLLECTION}/{timestamp}mp_/{canary.canary_url}").status == 200  # still serving
