"""The mock site and the demo sites answer with the exact bytes the end-to-end tests rely on."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import struct
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo import CITATION_COUNT, POST_PATH, POST_SITE, demo_sites
from crawler.localsite import SiteGroup, SiteServer
from tests.mocksite import content
from tests.mocksite.fixture import MockSite, run_mocksite


@pytest.fixture(scope="module")
def mock() -> Iterator[MockSite]:
    with run_mocksite() as site:
        yield site


def get(
    base: str, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[http.client.HTTPResponse, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def raw_get(base: str, target: str) -> bytes:
    """The full response as bytes off the socket, framing and all."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


class Links(HTMLParser):
    """Collects (href, text, inside <article>) for every <a href>."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, bool]] = []
        self._article = 0
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._article += 1
        elif tag == "a" and (href := dict(attrs).get("href")) is not None:
            self._href, self._text = href, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._article -= 1
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, self._text, self._article > 0))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data


def links_of(body: bytes) -> list[tuple[str, str, bool]]:
    parser = Links()
    parser.feed(body.decode("utf-8"))
    return parser.links


# ------------------------------------------------------------------ the sites server


@pytest.mark.parametrize(
    "target",
    [
        "/pages/plain.html",
        "/pages/final.html",
        content.QUERY_TARGET,
        "/missing.html",
        "/error.html",
        "/doc.pdf",
        "/cookies.html",
        "/image.png",
        "/utf8.html",
    ],
)
def test_site_bodies_match_expected(mock: MockSite, target: str) -> None:
    response, body = get(mock.sites, target)
    expected = content.site_response(target)
    assert response.status == expected.status
    assert body == content.EXPECTED_BODIES[target] == expected.body
    assert response.getheader("Content-Length") == str(len(body))
    assert response.getheader("Content-Type") == expected.header("Content-Type")


def test_page_texts(mock: MockSite) -> None:
    assert b"<title>Plain page</title>" in get(mock.sites, "/pages/plain.html")[1]
    assert b"The plain page text." in get(mock.sites, "/pages/plain.html")[1]
    assert b"Query: <code>x=%C3%A5&y=1</code>" in get(mock.sites, "/pages/query.html?x=%C3%A5&y=1")[1]
    missing, body = get(mock.sites, "/missing.html")
    assert (missing.status, b"Not Found here" in body) == (404, True)
    assert get(mock.sites, "/error.html")[0].status == 500
    assert get(mock.sites, "/nothing-here")[0].status == 404
    assert "Källa på svenska: åäö" in get(mock.sites, "/utf8.html")[1].decode("utf-8")


def test_redirect_chain(mock: MockSite) -> None:
    first, _ = get(mock.sites, "/redirect/start")
    assert (first.status, first.getheader("Location")) == (302, "/redirect/middle")
    second, _ = get(mock.sites, "/redirect/middle")
    assert (second.status, second.getheader("Location")) == (301, "/pages/final.html")
    final, body = get(mock.sites, "/pages/final.html")
    assert final.status == 200 and b"Final destination" in body


def test_gzip_only_when_accepted(mock: MockSite) -> None:
    response, body = get(mock.sites, "/gzip.html", {"Accept-Encoding": "gzip, deflate"})
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Content-Length") == str(len(body))
    assert body == content.EXPECTED_BODIES["/gzip.html"] == gzip.compress(content.GZIP_IDENTITY_HTML, mtime=0)
    assert b"Compressed page text" in gzip.decompress(body)

    plain, body = get(mock.sites, "/gzip.html", {"Accept-Encoding": "identity"})
    assert plain.getheader("Content-Encoding") is None
    assert body == content.GZIP_IDENTITY_HTML


def test_chunked_framing(mock: MockSite) -> None:
    raw = raw_get(mock.sites, "/chunked.html")
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"\r\nTransfer-Encoding: chunked" in head
    assert b"Content-Length" not in head
    chunks = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n"
            break
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    assert len(chunks) >= 3
    assert tuple(chunks) == content.CHUNKS
    assert b"".join(chunks) == content.EXPECTED_BODIES["/chunked.html"]
    assert b"Chunked page text" in content.CHUNKED_HTML


def test_two_set_cookie_headers(mock: MockSite) -> None:
    response, body = get(mock.sites, "/cookies.html")
    assert response.msg.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert b"Cookie page" in body


def test_binary_payloads_are_valid(mock: MockSite) -> None:
    pdf, body = get(mock.sites, "/doc.pdf")
    assert pdf.getheader("Content-Type") == "application/pdf"
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    xref = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert body[xref:].startswith(b"xref")

    png, body = get(mock.sites, "/image.png")
    assert png.getheader("Content-Type") == "image/png"
    assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR"
    assert struct.unpack(">II", body[16:24]) == (8, 8)


def test_slow_page_waits(mock: MockSite) -> None:
    started = time.monotonic()
    response, body = get(mock.sites, "/slow.html?delay=0.3")
    assert time.monotonic() - started >= 0.3
    assert response.status == 200 and body == content.EXPECTED_BODIES["/slow.html"]
    assert get(mock.sites, "/slow.html?delay=soon")[0].status == 400
    assert content.slow_delay("delay=999") == content.MAX_DELAY


def test_head_sends_headers_only(mock: MockSite) -> None:
    response, body = get(mock.sites, "/pages/plain.html", method="HEAD")
    assert body == b""
    assert response.getheader("Content-Length") == str(len(content.PLAIN_HTML))


def test_requests_are_recorded_and_reset(mock: MockSite) -> None:
    mock.reset()
    get(mock.sites, "/pages/plain.html", {"User-Agent": "citearchive-test/1", "X-Probe": "yes"})
    received = mock.received()
    assert [entry["requestline"] for entry in received] == ["GET /pages/plain.html HTTP/1.1"]
    assert ["User-Agent", "citearchive-test/1"] in received[0]["headers"]
    assert ["X-Probe", "yes"] in received[0]["headers"]
    mock.reset()
    assert mock.received() == []


# ------------------------------------------------------------------ the blog server


def test_sources_post_links(mock: MockSite) -> None:
    response, body = get(mock.blog, content.SOURCES_PATH)
    assert response.status == 200
    assert body == content.sources_post(mock.sites)
    links = links_of(body)
    cited = [(href, text) for href, text, in_article in links if in_article and href.startswith("http")]
    assert cited == [(mock.sites + path, text) for path, text in content.SOURCES_CITATIONS]
    hrefs = {href for href, _, _ in links}
    assert {"mailto:someone@example.org", "#footnote", "/about", "/archive"} <= hrefs
    outside = {href for href, _, in_article in links if not in_article}
    assert {mock.sites + "/pages/blogroll.html", mock.sites + "/pages/footer.html"} <= outside
    for path in ("/", "/about", "/archive", "/tag/x"):
        assert get(mock.blog, path)[0].status == 200
    assert get(mock.blog, "/nope")[0].status == 404
    assert get(mock.sites, "/pages/blogroll.html")[0].status == 200
    assert get(mock.sites, "/pages/footer.html")[0].status == 200


def test_loopback_post_cites_one_page(mock: MockSite) -> None:
    _, body = get(mock.blog, content.LOOPBACK_PATH)
    cited = [href for href, _, in_article in links_of(body) if in_article]
    assert cited == [mock.sites + "/pages/plain.html"]


def test_fixture_leaves_no_process() -> None:
    with run_mocksite() as site:
        pid = site.pid
        assert get(site.sites, "/pages/plain.html")[0].status == 200
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# ------------------------------------------------------------------ the demo sites


@pytest.fixture(scope="module")
def demo() -> Iterator[SiteGroup]:
    with demo_sites() as sites:
        yield sites


def test_demo_post_has_placeholders_replaced(demo: SiteGroup) -> None:
    response, body = get(demo.url(POST_SITE), POST_PATH)
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert b"{{site:" not in body
    links = links_of(body)
    cited = [href for href, _, in_article in links if in_article and not href.startswith("#")]
    assert len(cited) == len(set(cited)) == CITATION_COUNT
    origins = {"http://" + urlsplit(href).netloc for href in cited}
    assert origins == {demo.url(name).rstrip("/") for name in ("nyheter", "statistik", "kommun", "forskning")}
    assert any(set("åäö") & set(text) for _, text, in_article in links if in_article)
    assert b"<blockquote" in body

    statuses = {}
    for href in cited:
        parts = urlsplit(href)
        statuses[href] = get(href, parts.path + (f"?{parts.query}" if parts.query else ""))[0].status
    assert sorted(statuses.values()) == [200] * 8 + [301, 404]


def test_demo_redirect_and_missing(demo: SiteGroup) -> None:
    response, _ = get(demo.url("nyheter"), "/arkiv/vallen-kostnad.html")
    location = response.getheader("Location") or ""
    assert (response.status, location) == (301, demo.url("nyheter", "/2024/01/vallen-blir-dyrare.html"))
    final, body = get(demo.url("nyheter"), urlsplit(location).path)
    assert final.status == 200 and "Vallen blir dyrare".encode() in body
    assert get(demo.url("kommun"), "/dokument/riskanalys-2022.html")[0].status == 404
    assert get(demo.url("nyheter"), "/_routes.json")[0].status == 404


def test_demo_content_types(demo: SiteGroup) -> None:
    css, _ = get(demo.url("nyheter"), "/style.css")
    assert css.getheader("Content-Type") == "text/css; charset=utf-8"
    png, body = get(demo.url("forskning"), "/bilder/skyfall-2023.png")
    assert png.getheader("Content-Type") == "image/png" and body.startswith(b"\x89PNG")
    svg, _ = get(demo.url("statistik"), "/bilder/nederbord.svg")
    assert svg.getheader("Content-Type").startswith("image/svg+xml")
    index, _ = get(demo.url("blogg"), "/")
    assert index.status == 200


def test_site_server_refuses_paths_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<p>home</p>")
    (tmp_path / "secret.txt").write_text("the-secret-body")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (root / "sub").mkdir()
    with SiteServer(root) as server:
        base = server.base_url
        assert get(base, "/")[0].status == 200
        for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt"):
            assert b"the-secret-body" not in raw_get(base, target), target
            assert get(base, target)[0].status in (403, 404)
        assert get(base, "/escape.txt")[0].status == 403
        moved, _ = get(base, "/sub")
        assert (moved.status, moved.getheader("Location")) == (301, "/sub/")
    with pytest.raises(RuntimeError):
        server.base_url
