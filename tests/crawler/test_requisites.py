"""Page requisites: found in HTML and CSS, fetched once per run, credited to every citation, tallied."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

import crawler.settings as project_settings
from archive.manifest import compile_manifest, validate_manifest
from archive.requisitetally import REQUISITE_NOT_ATTEMPTED
from crawler.items import CaptureItem, RequisitesItem
from crawler.requisites import css_requisites, html_requisites, parse_srcset
from crawler.spiders.citations import CitationsSpider

BASE = "https://site.example/posts/page.html"


def urls(found: list[Any]) -> list[str]:
    return [requisite.url for requisite in found]


def roles(found: list[Any]) -> dict[str, str]:
    return {requisite.url.rsplit("/", 1)[1]: requisite.role for requisite in found}


# ------------------------------------------------------------------ pure discovery


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png 160w,b.png 320w", ["a.png", "b.png"]),
        ("  a.png  ", ["a.png"]),
        ("a,b.png 1x, c.png", ["a,b.png", "c.png"]),  # commas inside a URL
        ("a.png, b.png", ["a.png", "b.png"]),  # a trailing comma ends the URL
        ("a.png,b.png", ["a.png,b.png"]),  # no whitespace: one URL (HTML's algorithm)
        ("data:image/gif;base64,R0l 1x, b.png 2x", ["data:image/gif;base64,R0l", "b.png"]),
        ("", []),
    ],
)
def test_parse_srcset(srcset: str, expected: list[str]) -> None:
    assert parse_srcset(srcset) == expected


def test_html_requisites_cover_what_a_browser_loads() -> None:
    html = """<!DOCTYPE html><html><head>
    <link rel="stylesheet" href="/css/site.css"><link rel="alternate stylesheet" href="alt.css">
    <link rel="icon" href="favicon.ico"><link rel="shortcut icon" href="short.ico">
    <link rel="apple-touch-icon" href="touch.png"><link rel="preload" as="font" href="f.woff2">
    <link rel="canonical" href="canonical.html"><link rel="alternate" href="feed.xml">
    <script src="app.js"></script><script>var inline = "no.png";</script>
    <style>@import "imported.css"; .x { background: url(style-bg.png) }</style>
    </head><body background="body-bg.png">
    <img src="plain.png" srcset="one.png 1x, two.png 2x">
    <picture><source srcset="pic.webp" type="image/webp"><img src="fallback.png"></picture>
    <img data-src="lazy.png" data-srcset="lazy-1x.png 1x, lazy-2x.png 2x" src="data:image/gif;base64,R0lGOD">
    <div data-bg="bg-lazy.png" style="background-image: url('inline.png')"></div>
    <video poster="poster.jpg"><source src="movie.mp4"></video><audio src="sound.mp3"></audio>
    <iframe src="frame.html"></iframe><iframe data-src="lazy-frame.html"></iframe>
    <svg><image href="svg-image.png"/><use href="#local"/></svg>
    <input type="image" src="button.png"><a href="link.html">a link</a>
    <img src="#fragment-only"><img src="javascript:void(0)"><img src="photo.png#frag">
    </body></html>"""
    found = html_requisites(html, BASE)
    assert roles(found) == {
        "site.css": "stylesheet", "favicon.ico": "icon", "short.ico": "icon", "touch.png": "icon",
        "f.woff2": "font", "app.js": "script", "imported.css": "stylesheet", "style-bg.png": "image",
        "body-bg.png": "image", "plain.png": "image", "one.png": "image", "two.png": "image",
        "pic.webp": "image", "fallback.png": "image", "lazy.png": "image", "lazy-1x.png": "image",
        "lazy-2x.png": "image", "bg-lazy.png": "image", "inline.png": "image", "poster.jpg": "image",
        "frame.html": "frame", "lazy-frame.html": "frame", "svg-image.png": "image", "button.png": "image",
        "photo.png": "image",
    }  # fmt: skip
    assert "https://site.example/css/site.css" in urls(found)
    assert "https://site.example/posts/photo.png" in urls(found)  # fragment dropped


def test_frames_are_left_out_of_frame_documents() -> None:
    html = '<iframe src="deeper.html"></iframe><iframe data-src="lazy.html"></iframe><img src="a.png">'
    assert urls(html_requisites(html, BASE, frames=False)) == ["https://site.example/posts/a.png"]


def test_base_href_and_duplicates() -> None:
    html = '<base href="https://cdn.example/assets/"><img src="a.png"><img src="a.png" srcset="a.png 2x">'
    assert urls(html_requisites(html, BASE)) == ["https://cdn.example/assets/a.png"]


@pytest.mark.parametrize("html", ["", "   ", "<?xml version='1.0' encoding='utf-8'?><html><img src=a.png></html>"])
def test_odd_documents_do_not_raise(html: str) -> None:
    assert urls(html_requisites(html, BASE)) in ([], ["https://site.example/posts/a.png"])


def test_css_requisites_resolve_against_the_stylesheet() -> None:
    css = """/* url(commented.png) @import "commented.css"; */
    @import url("a.css"); @import 'b.css' screen; @import url(c.css);
    @font-face { font-family: X; src: url(../fonts/x.woff2) format("woff2"), url('../fonts/x.ttf'); }
    .hero { background: url( "../img/hero.png" ) no-repeat, url(data:image/png;base64,AAA); }
    .set { background-image: image-set("one.png" 1x, "two.png" 2x); }
    .sprite { background: url(sprite.svg#icon); }"""
    found = css_requisites(css, "https://site.example/css/main.css")
    assert [(r.url, r.role) for r in found] == [
        ("https://site.example/css/a.css", "stylesheet"),
        ("https://site.example/css/b.css", "stylesheet"),
        ("https://site.example/css/c.css", "stylesheet"),
        ("https://site.example/fonts/x.woff2", "font"),
        ("https://site.example/fonts/x.ttf", "font"),
        ("https://site.example/img/hero.png", "image"),
        ("https://site.example/css/sprite.svg", "image"),
        ("https://site.example/css/one.png", "image"),
        ("https://site.example/css/two.png", "image"),
    ]


# ------------------------------------------------------------------ the spider side


def spider(**overrides: Any) -> CitationsSpider:
    settings = {k: v for k, v in vars(project_settings).items() if k.startswith("ARCHIVE_")}
    crawler = get_crawler(CitationsSpider, {**settings, **overrides})
    return CitationsSpider.from_crawler(crawler)


def page(url: str, body: str, status: int = 200) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=body.encode(), encoding="utf-8", request=Request(url))


def fetched(request: Request, body: bytes = b"", content_type: str = "image/png", status: int = 200) -> Response:
    cls = TextResponse if content_type.startswith("text/css") else (HtmlResponse if "html" in content_type else Response)
    response = cls(request.url, status=status, body=body, headers={"Content-Type": content_type}, request=request)
    return response


def split(outputs: list[Any]) -> tuple[list[Request], list[Any]]:
    requests = [o for o in outputs if isinstance(o, Request)]
    return requests, [o for o in outputs if not isinstance(o, Request)]


def credited(items: list[Any]) -> list[tuple[str, str, str]]:
    return [
        (i.parent, url.rsplit("/", 1)[1], outcome.status)
        for i in items
        if isinstance(i, RequisitesItem)
        for url, _, outcome in i.outcomes
    ]


def test_shared_requisite_is_fetched_once_and_credited_to_each_citation() -> None:
    crawl = spider()
    html = '<link rel="stylesheet" href="/s.css"><img src="/i.png">'
    requests, items = split(list(crawl.requisite_requests(page("http://a.example/1", html), "k1")))
    assert [r.url for r in requests] == ["http://a.example/s.css", "http://a.example/i.png"]
    assert items == [RequisitesItem("k1", ["http://a.example/s.css", "http://a.example/i.png"], ["stylesheet", "image"])]
    assert requests[0].headers["Accept"] == b"text/css,*/*;q=0.1"
    assert requests[0].dont_filter and requests[0].meta["archive_requisite_of"] == "k1"
    # A second citation needing the same URLs while they are in flight: no new request.
    again, _ = split(list(crawl.requisite_requests(page("http://a.example/2", html), "k2")))
    assert again == []
    css = fetched(requests[0], b".x{background:url(bg.png)}", "text/css")
    nested, items = split(list(crawl.parse_requisite(css)))
    assert [r.url for r in nested] == ["http://a.example/bg.png"]
    assert credited(items) == [("k1", "s.css", "archived"), ("k2", "s.css", "archived")]
    # The stylesheet's capture (WARC file, offset, hops) is journalled once, by the first citation's line.
    first, second = (item.to_journal()["outcomes"] for item in items)
    assert first[0]["capture"]["status"] == "archived" and "offset" in first[0]["capture"]
    assert second == [{"url": "http://a.example/s.css", "role": "stylesheet", "status": "archived", "reason": None}]
    _, items = split(list(crawl.parse_requisite(fetched(nested[0]))))
    assert credited(items) == [("k1", "bg.png", "archived"), ("k2", "bg.png", "archived")]
    _, items = split(list(crawl.parse_requisite(fetched(requests[1], status=404, content_type="text/html"))))
    assert credited(items) == [("k1", "i.png", "failed"), ("k2", "i.png", "failed")]
    # A third citation after everything landed: credited at once, the stylesheet's image too.
    late, items = split(list(crawl.requisite_requests(page("http://a.example/3", html), "k3")))
    assert late == []
    assert len(items) == 1  # one item for the page, however many requisites it is credited with
    assert sorted(credited(items)) == [("k3", "bg.png", "archived"), ("k3", "i.png", "failed"), ("k3", "s.css", "archived")]
    assert crawl.crawler.stats.get_value("archive/requisites/requested") == 3


def test_one_level_of_frames_and_import_loops_end() -> None:
    crawl = spider()
    requests, _ = split(list(crawl.requisite_requests(page("http://a.example/p", '<iframe src="/f.html">'), "k")))
    frame = fetched(requests[0], b'<iframe src="/deeper.html"></iframe><link rel=stylesheet href="/a.css">', "text/html")
    nested, _ = split(list(crawl.parse_requisite(frame)))
    assert [r.url for r in nested] == ["http://a.example/a.css"]
    loop, _ = split(list(crawl.parse_requisite(fetched(nested[0], b'@import "b.css";', "text/css"))))
    back, _ = split(list(crawl.parse_requisite(fetched(loop[0], b'@import "a.css";', "text/css"))))
    assert back == []


def test_depth_and_per_page_limits() -> None:
    crawl = spider(ARCHIVE_REQUISITES_DEPTH=1)
    requests, _ = split(list(crawl.requisite_requests(page("http://a.example/p", '<link rel=stylesheet href="/a.css">'), "k")))
    nested, _ = split(list(crawl.parse_requisite(fetched(requests[0], b'@import "b.css";', "text/css"))))
    assert nested == []
    crawl = spider(ARCHIVE_REQUISITES_MAX_PER_PAGE=2)
    html = "".join(f'<img src="/{n}.png">' for n in range(4))
    requests, items = split(list(crawl.requisite_requests(page("http://a.example/p", html), "k")))
    assert len(requests) == 2
    assert [outcome.status for i in items if isinstance(i, RequisitesItem) for _, _, outcome in i.outcomes] == ["skipped", "skipped"]


def test_no_requisites_for_error_pages_non_html_or_when_off() -> None:
    html = '<img src="/i.png">'
    assert list(spider().requisite_requests(page("http://a.example/p", html, status=404), "k")) == []
    assert list(spider(ARCHIVE_REQUISITES=False).requisite_requests(page("http://a.example/p", html), "k")) == []
    request = Request("http://a.example/doc.pdf")
    assert list(spider().requisite_requests(fetched(request, b"%PDF", "application/pdf"), "k")) == []


def test_parse_citation_yields_the_capture_first() -> None:
    request = Request("http://a.example/p", meta={"archive_key": "k", "archive_url": "http://a.example/p"})
    response = HtmlResponse("http://a.example/p", body=b'<img src="/i.png">', encoding="utf-8", request=request)
    outputs = list(spider().parse_citation(response))
    assert isinstance(outputs[0], CaptureItem)
    assert outputs[0].requisites == RequisitesItem("k", ["http://a.example/i.png"], ["image"])
    assert [type(o).__name__ for o in outputs[1:]] == ["Request"]


# ------------------------------------------------------------------ the manifest


def capture(status: str, **extra: Any) -> dict[str, Any]:
    location = {"timestamp": "20240101000000", "warc_file": "a.warc.gz", "offset": 0, "length": 10, "record_id": "<urn:uuid:1>"}
    return {"status": status, **(location if status == "archived" else {}), **extra}


def test_manifest_counts_requisites_per_citation_without_making_them_citations() -> None:
    citations = [
        {"n": 1, "url": "http://a/1", "key": "k1", "anchor_text": "one", "context": "one"},
        {"n": 2, "url": "http://a/2", "key": "k2", "anchor_text": "two", "context": "two"},
        {"n": 3, "url": "http://a/3", "key": "k3", "anchor_text": "three", "context": "three"},
    ]
    entries = [
        {"kind": "post", "post_id": "p", "source": "post.html", "url": None, "title": "T", "snapshot": None, "citations": citations},
        {"kind": "capture", "key": "k1", "url": "http://a/1", "capture": capture("archived")},
        {"kind": "capture", "key": "k2", "url": "http://a/2", "capture": capture("archived")},
        {"kind": "capture", "key": "k3", "url": "http://a/3", "capture": capture("archived")},
        {"kind": "requisites_found", "parent": "k1", "urls": ["http://a/s.css", "http://a/x.png", "http://a/late.png"]},
        {"kind": "requisites_found", "parent": "k2", "urls": ["http://a/s.css"]},
        {"kind": "requisite", "parent": "k1", "url": "http://a/s.css", "role": "stylesheet", "capture": capture("archived")},
        {"kind": "requisite", "parent": "k2", "url": "http://a/s.css", "role": "stylesheet", "capture": capture("archived")},
        {"kind": "requisite", "parent": "k1", "url": "http://a/x.png", "role": "image",
         "capture": capture("failed", reason="the server answered HTTP 404 Not Found")},
    ]  # fmt: skip
    manifest = compile_manifest(entries, run_id="r", collection="c", started="2024-01-01T00:00:00Z", finished="2024-01-01T00:00:01Z")
    validate_manifest(manifest)
    one, two, three = manifest["posts"][0]["citations"]
    assert one["requisites"] == {
        "archived": 1,
        "failed": [
            {"url": "http://a/x.png", "reason": "the server answered HTTP 404 Not Found"},
            {"url": "http://a/late.png", "reason": REQUISITE_NOT_ATTEMPTED},
        ],
    }
    assert two["requisites"] == {"archived": 1, "failed": []}
    assert "requisites" not in three  # never looked for (not HTML, or --no-requisites)
    assert len(manifest["posts"][0]["citations"]) == 3


def test_manifest_reads_batched_requisite_lines_like_single_ones() -> None:
    citations = [{"n": 1, "url": "http://a/1", "key": "k1", "anchor_text": "one", "context": "one"}]
    head = [
        {"kind": "post", "post_id": "p", "source": "post.html", "url": None, "title": "T", "snapshot": None, "citations": citations},
        {"kind": "capture", "key": "k1", "url": "http://a/1", "capture": capture("archived")},
    ]
    failed = capture("failed", reason="the server answered HTTP 404 Not Found")
    single = [
        {"kind": "requisites_found", "parent": "k1", "urls": ["http://a/s.css", "http://a/x.png", "http://a/late.png"]},
        {"kind": "requisite", "parent": "k1", "url": "http://a/s.css", "role": "stylesheet", "capture": capture("archived")},
        {"kind": "requisite", "parent": "k1", "url": "http://a/x.png", "role": "image", "capture": failed},
        {"kind": "requisite", "parent": "k1", "url": "http://a/x.png", "role": "image", "capture": capture("archived")},
    ]
    batched = [
        {"kind": "requisites", "parent": "k1", "found": ["http://a/s.css", "http://a/x.png", "http://a/late.png"],
         "outcomes": [{"url": "http://a/s.css", "role": "stylesheet", "capture": capture("archived")},
                      {"url": "http://a/x.png", "role": "image", "capture": failed}]},
        {"kind": "requisites", "parent": "k1", "found": [],
         "outcomes": [{"url": "http://a/x.png", "role": "image", "capture": capture("archived")}]},
    ]
    # Lines after the first naming a URL's outcome carry its status and reason, not the capture.
    compact = [
        {"kind": "requisites", "parent": "k1", "found": ["http://a/s.css", "http://a/x.png", "http://a/late.png"],
         "outcomes": [{"url": "http://a/s.css", "role": "stylesheet", "status": "archived", "reason": None},
                      {"url": "http://a/x.png", "role": "image", "status": "failed", "reason": failed["reason"]}]},
        {"kind": "requisites", "parent": "k1", "found": [],
         "outcomes": [{"url": "http://a/x.png", "role": "image", "status": "archived", "reason": None},
                      {"url": "http://a/x.png", "role": "image", "status": "failed", "reason": "later, failed"}]},
    ]  # fmt: skip
    run = {"run_id": "r", "collection": "c", "started": "2024-01-01T00:00:00Z", "finished": "2024-01-01T00:00:01Z"}
    expected = {"archived": 2, "failed": [{"url": "http://a/late.png", "reason": REQUISITE_NOT_ATTEMPTED}]}
    for entries in (single, batched, compact):
        manifest = compile_manifest(head + entries, **run)
        assert manifest["posts"][0]["citations"][0]["requisites"] == expected
