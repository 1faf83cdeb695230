"""Browser mode over https: the recording proxy intercepts TLS with its per-run CA, and the page replays."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.render.browser import find_processes
from tests.browser import CHROMIUM, artifact_path, chromium
from tests.conftest import run_cli
from tests.e2e.test_render import COLLECTION, MARKER, Run, colour_counts, near
from tests.wayback import run_wayback as wayback
from tests.mocksite import jspages
from tests.mocksite.tlsjs import TLSSite, serve_tls_jspages

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run ./scripts/system-packages")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSSite]:
    with serve_tls_jspages(tmp_path_factory.mktemp("tls-site")) as served:
        yield served


def _archive(site: TLSSite, tmp: Path, *extra: str) -> Run:
    post = tmp / "post.html"
    page = site.origin + jspages.JS_PAGE
    post.write_text(
        f'<html><body><article><p>A source built by JavaScript, over https: <a href="{page}">the page</a>.</p>'
        "</article></body></html>",
        encoding="utf-8",
    )
    out = tmp / "out"
    run = run_cli(["archive", str(post), "--out", str(out), "--collection", COLLECTION, "--allow-private", *extra], tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    (path,) = [p for p in (out / "collections" / COLLECTION / "manifests").glob("*.json") if p.name.count(".") == 1]
    return Run(run, out, json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def rendered(site: TLSSite, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _archive(site, tmp_path_factory.mktemp("rendered-https"), "--render")


def _pairs(run: Run, origin: str) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    responses: dict[str, list[Any]] = {}
    requests: dict[str, list[Any]] = {}
    for record in run.records():
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        if record.rec_type in ("request", "response") and uri.startswith(origin + "/js/"):
            (responses if record.rec_type == "response" else requests).setdefault(uri, []).append(record)
    return responses, requests


def test_https_page_is_rendered_and_in_the_manifest(rendered: Run, site: TLSSite) -> None:
    assert rendered.run.violations == []
    citation = rendered.citation
    assert citation["url"] == site.origin + jspages.JS_PAGE
    assert citation["capture"]["status"] == "archived"
    render = citation["render"]
    assert render["status"] == "archived", render
    assert render["reason"] is None and render["http_status"] == 200
    assert render["final_url"] == citation["url"]
    assert render["resources"] == {"archived": 3, "failed": []}  # app.js, data.json, the image
    page = rendered.record_at(render["page"])
    assert page.rec_type == "response"
    assert page.rec_headers.get_header("WARC-Target-URI") == citation["url"]
    assert page.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert page.raw_payload == jspages.site_response(jspages.JS_PAGE, "").body  # type: ignore[union-attr]
    screenshot = rendered.record_at(render["screenshot"])
    assert screenshot.rec_headers.get_header("WARC-Target-URI") == "urn:screenshot:" + citation["url"]
    assert screenshot.rec_headers.get_header("WARC-Concurrent-To") == render["page"]["record_id"]
    dom = rendered.record_at(render["dom"])
    assert jspages.INSERTED_TEXT.encode() in dom.raw_payload


def test_https_exchanges_are_raw_request_response_pairs(rendered: Run, site: TLSSite) -> None:
    responses, requests = _pairs(rendered, site.origin)
    # The page: the proxy's own exchange, in the render phase's WARC, next to the crawl's.
    page = rendered.citation["render"]["page"]
    assert page["warc_file"].startswith("citearchive-render-")
    assert len(responses[site.origin + jspages.JS_PAGE]) == 2
    for path in (jspages.DATA_PATH, jspages.IMAGE_PATH):  # only the browser asked for these
        (response,) = responses[site.origin + path]
        (request,) = requests[site.origin + path]
        assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header("WARC-Record-ID")
        assert request.http_headers.get_header("Accept-Encoding") == "gzip, deflate"
        assert request.http_headers.protocol == "GET"
        assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    # The JSON came chunked: the record holds the de-chunked body.
    assert responses[site.origin + jspages.DATA_PATH][0].raw_payload == jspages.data_json()
    assert responses[site.origin + jspages.IMAGE_PATH][0].raw_payload == jspages.image_bytes()
    # The script came gzip-encoded to the crawl and to the proxy: both records keep those bytes.
    scripts = responses[site.origin + jspages.SCRIPT_PATH]
    assert len(scripts) == 2
    for script in scripts:
        assert script.http_headers.get_header("Content-Encoding") == "gzip"
        assert script.raw_payload == jspages.APP_JS_GZIP
    paths = [path for path, _ in site.received]
    assert paths.count(jspages.DATA_PATH) == 1 and paths.count(jspages.IMAGE_PATH) == 1


def test_https_screenshot_shows_what_the_script_inserted(rendered: Run) -> None:
    png = rendered.record_at(rendered.citation["render"]["screenshot"]).raw_payload
    artifact_path("render-https-screenshot.png").write_bytes(png)
    counts = colour_counts(png)
    block, image = jspages.BLOCK_SIZE, jspages.IMAGE_SIZE
    assert near(counts, jspages.BLOCK_RGB) >= 0.95 * block[0] * block[1]
    assert near(counts, jspages.IMAGE_RGB) >= 0.95 * image[0] * image[1]


def test_https_capture_replays_with_the_script_content(rendered: Run, site: TLSSite) -> None:
    capture = rendered.citation["capture"]
    with chromium() as browser, wayback(rendered.out) as origin:
        context = browser.new_context(viewport={"width": 1000, "height": 1200}, device_scale_factor=1)
        requested: list[str] = []
        try:
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            before = site.hits()
            url = f"{origin}/{COLLECTION}/{capture['timestamp']}/{rendered.citation['url']}"
            page.goto(url, wait_until="load", timeout=60_000)
            page.wait_for_load_state("networkidle", timeout=60_000)
            frame = next(f for f in page.frames if "mp_/" in f.url)
            frame.wait_for_selector("#inserted-text", timeout=10_000)
            state = frame.evaluate(
                """() => ({
                    text: document.body.innerText,
                    image: (document.getElementById('inserted-image') || {}).naturalWidth || 0,
                    block: !!document.getElementById('inserted-block'),
                })"""
            )
            page.screenshot(path=str(artifact_path("render-replay-https.png")), full_page=True)
            live_hits = site.hits() - before
        finally:
            context.close()
    assert jspages.INSERTED_TEXT in state["text"]
    assert state["image"] == jspages.IMAGE_SIZE[0] and state["block"]
    leaks = [u for u in requested if not u.startswith((origin, "data:", "blob:", "about:"))]
    assert (leaks, live_hits) == ([], 0)


def test_no_chromium_process_remains_after_the_https_run(rendered: Run) -> None:
    assert find_processes(MARKER + rendered.manifest["run_id"]) == []


def test_the_ca_stays_out_of_the_collection(rendered: Run) -> None:
    names = [p.name for p in rendered.out.rglob("*")]
    assert not any(name.endswith(".pem") for name in names), names


def _load_through_proxy(site: TLSSite, tmp_path: Path, trust_other_ca: bool) -> str:
    """Load the https page in Chromium through a real proxy and CA; the outcome as text."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    from archive.writer import ArchiveWriter
    from crawler.render.browser import browser_env, chromium_args, chromium_binary, reap
    from crawler.render.proxy import PageGate, ProxyPolicy, RecordingProxy
    from crawler.render.tlsca import InterceptionCA

    profile = tmp_path / "citearchive-render-spki-test"
    profile.mkdir(parents=True)
    ca = InterceptionCA.create(profile / "tls")
    spki = InterceptionCA.create(tmp_path / "other").spki if trust_other_ca else ca.spki
    writer = ArchiveWriter(tmp_path / "archive", fsync=False)

    async def write(capture: Any) -> Any:
        return writer.write_capture(capture)

    async def main() -> str:
        gate = PageGate()  # as in the render phase: Chromium's own tunnels are refused unresolved
        proxy = RecordingProxy(write, ProxyPolicy(allow_private=True), gate, ca)
        port = await proxy.start()
        try:
            async with async_playwright() as playwright:
                context = await playwright.chromium.launch_persistent_context(
                    str(profile / "profile"), executable_path=chromium_binary(CHROMIUM),
                    args=chromium_args(port, spki), env=browser_env(profile), headless=True,
                )  # fmt: skip
                context.on("request", lambda request: gate.expect(request.url))
                try:
                    page = await context.new_page()
                    response = await page.goto(site.origin + jspages.JS_PAGE, timeout=30_000)
                    return f"status {response.status if response else None}"
                except PlaywrightError as exc:
                    return str(exc).splitlines()[0]
                finally:
                    await context.close()
        finally:
            await proxy.close()

    try:
        return asyncio.run(main())
    finally:
        reap(str(profile))
        writer.close()


def test_chromium_trusts_the_runs_ca_and_no_other(site: TLSSite, tmp_path: Path) -> None:
    assert _load_through_proxy(site, tmp_path / "ours", trust_other_ca=False) == "status 200"
    assert "ERR_CERT_AUTHORITY_INVALID" in _load_through_proxy(site, tmp_path / "other", trust_other_ca=True)
