"""Browser mode: a page built by JavaScript is archived through Chromium and the recording proxy, and replays."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.render.browser import find_processes
from tests.browser import CHROMIUM, artifact_path, chromium
from tests.conftest import REPO_ROOT, CliRun, run_cli
from tests.wayback import run_wayback as wayback
from tests.mocksite import jspages

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run ./scripts/system-packages")

COLLECTION = "js"
MARKER = "citearchive-render-"  # the prefix of each render phase's unique Chromium profile directory


@dataclass
class Run:
    run: CliRun
    out: Path
    manifest: dict[str, Any]

    @property
    def citation(self) -> dict[str, Any]:
        (post,) = self.manifest["posts"]
        (citation,) = post["citations"]
        return citation

    def records(self) -> list[Any]:
        out = []
        for path in sorted((self.out / "collections" / COLLECTION / "archive").glob("*.warc.gz")):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    record.raw_payload = record.raw_stream.read()  # raw: still content-encoded
                    out.append(record)
        return out

    def record_at(self, location: dict[str, Any]) -> Any:
        path = self.out / "collections" / COLLECTION / "archive" / location["warc_file"]
        with path.open("rb") as stream:
            stream.seek(location["offset"])
            record = next(iter(ArchiveIterator(stream)))
            record.raw_payload = record.raw_stream.read()
            return record


def _archive(mocksite: Any, tmp: Path, *extra: str) -> Run:
    out = tmp / "out"
    args = ["archive", mocksite.blog + jspages.JS_POST_PATH, "--out", str(out), "--collection", COLLECTION]
    run = run_cli([*args, "--allow-private", *extra], tmp)
    assert run.returncode == 0, run.stderr[-3000:]
    (path,) = [p for p in (out / "collections" / COLLECTION / "manifests").glob("*.json") if p.name.count(".") == 1]
    return Run(run, out, json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def rendered(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _archive(mocksite, tmp_path_factory.mktemp("rendered"), "--render")


@pytest.fixture(scope="module")
def static(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _archive(mocksite, tmp_path_factory.mktemp("static"))


# ------------------------------------------------------------------ PNG pixels, without Pillow


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, unfiltered pixel rows) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = payload
        elif kind == b"IDAT":
            idat += payload
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, previous = bytearray(), bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):  # RFC 2083 section 6: the five filter types
            a = line[x - bpp] if x >= bpp else 0
            b, c = previous[x], previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows += line
        previous = line
    return width, height, bpp, bytes(rows)


def colour_counts(png: bytes) -> Counter[tuple[int, int, int]]:
    width, height, bpp, pixels = decode_png(png)
    return Counter(tuple(pixels[i : i + 3]) for i in range(0, width * height * bpp, bpp))  # type: ignore[misc]


def near(counts: Counter[tuple[int, int, int]], rgb: tuple[int, int, int], tolerance: int = 3) -> int:
    return sum(n for colour, n in counts.items() if all(abs(c - r) <= tolerance for c, r in zip(colour, rgb, strict=True)))


# ------------------------------------------------------------------ the capture


def test_render_is_in_the_manifest_with_its_screenshot(rendered: Run) -> None:
    assert rendered.run.violations == []
    citation = rendered.citation
    assert citation["capture"]["status"] == "archived"  # the crawl's own outcome, unchanged
    render = citation["render"]
    assert render["status"] == "archived", render
    assert render["http_status"] == 200
    assert render["resources"] == {"archived": 3, "failed": []}  # app.js, data.json, the image
    screenshot = rendered.record_at(render["screenshot"])
    assert screenshot.rec_type == "resource"
    assert screenshot.rec_headers.get_header("WARC-Target-URI") == "urn:screenshot:" + citation["url"]
    assert screenshot.rec_headers.get_header("Content-Type") == "image/png"
    assert screenshot.rec_headers.get_header("WARC-Concurrent-To") == render["page"]["record_id"]
    page = rendered.record_at(render["page"])
    assert page.rec_type == "response" and page.rec_headers.get_header("WARC-Target-URI") == citation["url"]
    dom = rendered.record_at(render["dom"])
    assert jspages.INSERTED_TEXT.encode() in dom.raw_payload  # the DOM after the script ran
    index = (rendered.out / "collections" / COLLECTION / "indexes" / "index.cdxj").read_text()
    assert "urn:screenshot:" + citation["url"] in index


def test_every_browser_request_is_a_raw_request_response_pair(rendered: Run) -> None:
    sites = rendered.citation["url"].removesuffix(jspages.JS_PAGE)
    responses: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for record in rendered.records():
        if record.rec_headers.get_header("WARC-Filename") or record.rec_type not in ("request", "response"):
            continue
        if not record.rec_headers.get_header("WARC-Target-URI").startswith(sites + "/js/"):
            continue
        uri = record.rec_headers.get_header("WARC-Target-URI")
        (responses if record.rec_type == "response" else requests).setdefault(uri, []).append(record)
    for path in (jspages.DATA_PATH, jspages.IMAGE_PATH):  # only the browser asked for these
        (response,) = responses[sites + path]
        (request,) = requests[sites + path]
        assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header("WARC-Record-ID")
    assert responses[sites + jspages.DATA_PATH][0].raw_payload == jspages.data_json()
    assert responses[sites + jspages.IMAGE_PATH][0].raw_payload == jspages.image_bytes()
    # The script came gzip-encoded to the crawl and to the proxy: both records keep those bytes.
    scripts = responses[sites + jspages.SCRIPT_PATH]
    assert len(scripts) == 2
    for script in scripts:
        assert script.http_headers.get_header("Content-Encoding") == "gzip"
        assert script.raw_payload == jspages.APP_JS_GZIP
    fetched = [r for r in requests[sites + jspages.DATA_PATH]]
    assert fetched[0].http_headers.get_header("Accept-Encoding") == "gzip, deflate"


def test_screenshot_shows_what_the_script_inserted(rendered: Run) -> None:
    png = rendered.record_at(rendered.citation["render"]["screenshot"]).raw_payload
    artifact_path("render-screenshot.png").write_bytes(png)
    counts = colour_counts(png)
    block, image = jspages.BLOCK_SIZE, jspages.IMAGE_SIZE
    assert near(counts, jspages.BLOCK_RGB) >= 0.95 * block[0] * block[1]
    assert near(counts, jspages.IMAGE_RGB) >= 0.95 * image[0] * image[1]


def test_static_capture_lacks_the_script_content(static: Run) -> None:
    assert static.run.violations == []
    assert "render" not in static.citation
    uris = {r.rec_headers.get_header("WARC-Target-URI") or "" for r in static.records()}
    assert not any(uri.endswith((jspages.DATA_PATH, jspages.IMAGE_PATH)) or uri.startswith("urn:") for uri in uris)


# ------------------------------------------------------------------ replay in pywb


def _replay(browser: Any, run: Run, mocksite: Any, name: str) -> dict[str, Any]:
    capture = run.citation["capture"]
    with wayback(run.out) as origin:
        context = browser.new_context(viewport={"width": 1000, "height": 1200}, device_scale_factor=1)
        requested: list[str] = []
        try:
            page = context.new_page()
            page.on("request", lambda request: requested.append(request.url))
            before = len(mocksite.received("sites"))
            page.goto(f"{origin}/{COLLECTION}/{capture['timestamp']}/{run.citation['url']}", wait_until="load", timeout=60_000)
            page.wait_for_load_state("networkidle", timeout=60_000)
            frame = next(f for f in page.frames if "mp_/" in f.url)
            try:
                frame.wait_for_selector("#inserted-text", timeout=10_000)
            except Exception:  # noqa: BLE001 - absent in the static capture: the state below says so
                pass
            state = frame.evaluate(
                """() => ({
                    text: document.body.innerText,
                    image: (document.getElementById('inserted-image') || {}).naturalWidth || 0,
                    block: !!document.getElementById('inserted-block'),
                })"""
            )
            page.screenshot(path=str(artifact_path(f"render-replay-{name}.png")), full_page=True)
            live_hits = len(mocksite.received("sites")) - before
        finally:
            context.close()
    leaks = [url for url in requested if not url.startswith((origin, "data:", "blob:", "about:"))]
    return {**state, "leaks": leaks, "live_hits": live_hits}


def test_rendered_capture_replays_with_the_script_content(rendered: Run, static: Run, mocksite: Any) -> None:
    with chromium() as browser:
        replayed = _replay(browser, rendered, mocksite, "rendered")
        plain = _replay(browser, static, mocksite, "static")
    assert jspages.INSERTED_TEXT in replayed["text"]
    assert replayed["image"] == jspages.IMAGE_SIZE[0] and replayed["block"]
    assert (replayed["leaks"], replayed["live_hits"]) == ([], 0)
    # Without --render the JSON was never archived: the same page replays without its content.
    assert jspages.STATIC_TEXT in plain["text"]
    assert jspages.INSERTED_TEXT not in plain["text"]
    assert plain["image"] == 0 and not plain["block"]


# ------------------------------------------------------------------ no browser left behind


def test_no_chromium_process_remains_after_the_run(rendered: Run) -> None:
    run_id = rendered.manifest["run_id"]
    assert find_processes(MARKER + run_id) == []


def test_interrupted_render_closes_the_browser(mocksite: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    violations = tmp_path / "violations.txt"
    violations.touch()
    args = ["archive", mocksite.blog + jspages.SLOW_JS_POST_PATH, "--out", str(out), "--collection", COLLECTION]
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.netguard", str(violations), "--", *args, "--allow-private", "--render"],
            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            # The page's blocking script takes 25 s: interrupt while Chromium is loading it.
            deadline = time.monotonic() + 60
            browsers: list[int] = []
            while not browsers and time.monotonic() < deadline and process.poll() is None:
                browsers = [pid for pid in find_processes(MARKER) if _ancestor(process.pid, pid)]
                time.sleep(0.2)
            assert browsers, (tmp_path / "stderr.txt").read_text()[-3000:]
            time.sleep(1.0)
            os.kill(process.pid, signal.SIGINT)
            returncode = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    log = (tmp_path / "stderr.txt").read_text()
    assert returncode == 130, log[-3000:]
    assert [pid for pid in browsers if Path(f"/proc/{pid}").exists() and _alive(pid)] == []
    (path,) = [p for p in (out / "collections" / COLLECTION / "manifests").glob("*.json") if p.name.count(".") == 1]
    citation = json.loads(path.read_text())["posts"][0]["citations"][0]
    assert citation["capture"]["status"] == "archived"
    assert citation["render"]["status"] == "skipped" and citation["render"]["reason"].startswith("not attempted")
    assert find_processes(MARKER + json.loads(path.read_text())["run_id"]) == []
    assert violations.read_text() == ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _ancestor(ancestor: int, pid: int) -> bool:
    """Whether ``ancestor`` started ``pid`` (directly or not), so parallel runs are not mixed up."""
    for _ in range(64):
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False

