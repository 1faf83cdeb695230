"""The landing app in-process (no pywb): listing, escaping, the post text, the same-origin API, traversal."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.replay.catalog import Catalog
from archive.replay.isolation import RequestGuard
from archive.replay.landing import LandingApp

ARCHIVE = "http://127.0.0.1:9001"
POST_URL = "https://blog.example/post/"
POST_HTML = (
    b"<html><body><nav><a href='/'>Home</a></nav><article><h1>A post</h1>"
    b"<p>As <a href='https://news.example/a'>the news said</a>, it rained.</p>"
    b"<p>And <a href='javascript:alert(1)'>a trap</a>.</p></article></body></html>"
)


def capture(status: str, url: str, **extra: Any) -> dict[str, Any]:
    base = {"status": status, "http_status": None, "final_url": url, "timestamp": None, "warc_file": None,
            "offset": None, "length": None, "record_id": None, "payload_digest": None, "mime": None, "reason": None}
    return {**base, **extra}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    root = tmp_path / "collections" / "mine"
    (root / "archive").mkdir(parents=True)
    (root / "manifests").mkdir()
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    record = writer.create_warc_record(POST_URL, "response", payload=io.BytesIO(POST_HTML), http_headers=headers)
    writer.write_record(record)
    (root / "archive" / "post.warc.gz").write_bytes(buffer.getvalue())
    snapshot = capture("archived", POST_URL, timestamp="20240101120000", warc_file="post.warc.gz", offset=0, http_status=200)
    citations = [
        {"n": 1, "url": "https://news.example/a", "anchor_text": "the news said", "context": "As the news said.",
         "capture": capture("archived", "https://news.example/a", timestamp="20240101120001", warc_file="post.warc.gz", offset=0, http_status=200)},
        {"n": 2, "url": "javascript:alert(1)", "anchor_text": "<script>alert('x')</script>", "context": "",
         "capture": capture("blocked", "javascript:alert(1)", reason="refused: <b>not http</b>")},
        {"n": 3, "url": "https://gone.example/", "anchor_text": "gone", "context": "",
         "capture": capture("failed", "https://gone.example/", reason="DNS lookup failed")},
    ]
    manifest = {"schema": "citearchive-manifest/1", "run_id": "r1", "collection": "mine", "started": "2024-01-01T12:00:00Z",
                "finished": "2024-01-01T12:00:05Z", "posts": [{"post_id": "p1", "source": POST_URL, "url": POST_URL,
                "title": "A <post>", "snapshot": snapshot, "citations": citations}]}
    (root / "manifests" / "r1.json").write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path


def call(app: Any, path: str, **environ: str) -> tuple[str, dict[str, str], str]:
    env: dict[str, Any] = {"PATH_INFO": path, "HTTP_HOST": "127.0.0.1:9000", **environ}
    setup_testing_defaults(env)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(env, start_response))
    names = [name.lower() for name, _ in seen["headers"]]
    assert "set-cookie" not in names
    return seen["status"], dict(seen["headers"]), body.decode()


def test_index_lists_citations_escaped_with_reasons(out: Path) -> None:
    status, headers, html = call(LandingApp(Catalog(out / "collections"), ARCHIVE), "/")
    assert status.startswith("200") and headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "A &lt;post&gt;" in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>" not in html and 'href="javascript:' not in html
    assert "refused: &lt;b&gt;not http&lt;/b&gt;" in html and "DNS lookup failed" in html
    assert f'href="{ARCHIVE}/mine/20240101120001/https://news.example/a"' in html
    assert 'href="https://gone.example/"' in html


def test_post_page_links_the_citation_in_the_text(out: Path) -> None:
    status, _, html = call(LandingApp(Catalog(out / "collections"), ARCHIVE), "/c/mine/p1")
    assert status.startswith("200")
    assert f'data-n="1" href="{ARCHIVE}/mine/20240101120001/https://news.example/a"' in html
    assert "it rained." in html and "Home" not in html.split('class="post-text"')[1].split("</section>")[0]


def test_snapshot_outside_the_archive_dir_is_not_read(out: Path) -> None:
    path = out / "collections" / "mine" / "manifests" / "r1.json"
    manifest = json.loads(path.read_text())
    manifest["posts"][0]["snapshot"]["warc_file"] = "../manifests/r1.json"
    path.write_text(json.dumps(manifest))
    status, _, html = call(LandingApp(Catalog(out / "collections"), ARCHIVE), "/c/mine/p1")
    assert status.startswith("200") and "citearchive-manifest" not in html and "not archived" in html


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        ({}, "200"),
        ({"HTTP_SEC_FETCH_SITE": "same-origin"}, "200"),
        ({"HTTP_ORIGIN": "http://127.0.0.1:9000"}, "200"),
        ({"HTTP_ORIGIN": ARCHIVE}, "403"),
        ({"HTTP_SEC_FETCH_SITE": "same-site"}, "403"),
        ({"HTTP_SEC_FETCH_SITE": "cross-site"}, "403"),
    ],
)
def test_api_answers_its_own_origin_only(out: Path, environ: dict[str, str], code: str) -> None:
    status, headers, body = call(LandingApp(Catalog(out / "collections"), ARCHIVE), "/api/collections", **environ)
    assert status.startswith(code)
    assert "Access-Control-Allow-Origin" not in headers
    if code == "200":
        assert json.loads(body)["collections"][0]["posts"][0]["counts"] == {"archived": 1, "blocked": 1, "failed": 1}


@pytest.mark.parametrize("path", ["/c/../collections/mine/p1", "/c/mine/..", "/c/mine%2f..%2f/p1", "/c/.hidden/p1", "/c/mine/p1/.."])
def test_traversal_paths_are_refused(out: Path, path: str) -> None:
    app = RequestGuard(LandingApp(Catalog(out / "collections"), ARCHIVE), {"127.0.0.1:9000"})
    status, _, body = call(app, path, REQUEST_URI=path)
    assert status[:3] in ("400", "404") and "citearchive-manifest" not in body


def test_unknown_host_is_refused(out: Path) -> None:
    app = RequestGuard(LandingApp(Catalog(out / "collections"), ARCHIVE), {"127.0.0.1:9000"})
    status, _, _ = call(app, "/", HTTP_HOST="rebound.example:9000")
    assert status.startswith("421")


def test_malformed_citation_urls_list_with_their_reason_and_no_link(out: Path) -> None:
    from archive.replay.posttext import blocks_from_html

    path = out / "collections" / "mine" / "manifests" / "r1.json"
    manifest = json.loads(path.read_text())
    reason = "malformed URL: '[::1' is not a valid IPv6 address"
    manifest["posts"][0]["citations"].append(
        {"n": 4, "url": "http://[::1", "anchor_text": "broken", "context": "", "capture": capture("skipped", None, reason=reason)}
    )
    path.write_text(json.dumps(manifest))
    app = LandingApp(Catalog(out / "collections"), ARCHIVE)
    for page in ("/", "/c/mine/p1"):
        status, _, html = call(app, page)
        assert status.startswith("200") and "is not a valid IPv6 address" in html
        assert 'href="http://[::1"' not in html
    html = b"<article><p><a href='http://[::1'>broken</a> and <a href='//[zz]/x'>worse</a>.</p></article>"
    (block,) = blocks_from_html(html, POST_URL, manifest["posts"][0]["citations"])
    assert [segment.citation["n"] for segment in block if segment.citation] == [4]
