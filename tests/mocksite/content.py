"""The exact bytes the mock site sends, so tests can recompute what a crawl should store."""

from __future__ import annotations

import gzip
import struct
import time
import zlib
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class MockResponse:
    """One response as the server writes it.

    ``headers`` are those the route sets; the server adds ``Server``, ``Date`` and either
    ``Content-Length`` or (when ``chunks`` is set) ``Transfer-Encoding: chunked``.
    ``body`` is the payload on the wire after de-chunking: still gzip bytes for ``/gzip.html``.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    chunks: tuple[bytes, ...] = ()

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def decoded(self) -> bytes:
        """The body after undoing ``Content-Encoding``."""
        if self.header("Content-Encoding") == "gzip":
            return gzip.decompress(self.body)
        return self.body


def html_page(title: str, body: str, lang: str = "en") -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode("utf-8")


def make_png(width: int = 8, height: int = 8) -> bytes:
    """A valid RGB PNG (signature, IHDR, IDAT, IEND) with a diagonal gradient."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 32 % 256, y * 32 % 256, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def make_pdf(text: str = "PDF document text") -> bytes:
    """A one-page PDF 1.4 with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 36 72 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _html(status: int, body: bytes, *extra: tuple[str, str]) -> MockResponse:
    return MockResponse(status, (("Content-Type", HTML), *extra), body)


def _redirect(status: int, location: str) -> MockResponse:
    body = html_page("Redirect", f'<p>Moved to <a href="{location}">{location}</a>.</p>')
    return _html(status, body, ("Location", location))


def query_page(raw_query: str) -> bytes:
    """The body of ``/pages/query.html``: the raw query string, echoed verbatim (not escaped)."""
    return html_page("Query page", f"<h1>Query page</h1>\n<p>Query: <code>{raw_query}</code></p>")


PLAIN_HTML = html_page("Plain page", "<h1>Plain page</h1>\n<p>The plain page text.</p>")
FINAL_HTML = html_page("Final page", "<h1>Final page</h1>\n<p>Final destination</p>")
MISSING_HTML = html_page("Not Found", "<h1>404</h1>\n<p>Not Found here</p>")
ERROR_HTML = html_page("Server Error", "<h1>500</h1>\n<p>Internal Server Error, always.</p>")
NO_ROUTE_HTML = html_page("Not Found", "<p>No route for this path.</p>")
GZIP_IDENTITY_HTML = html_page("Gzip page", "<h1>Gzip page</h1>\n<p>Compressed page text</p>")
GZIP_HTML = gzip.compress(GZIP_IDENTITY_HTML, mtime=0)
CHUNKS = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    b"<title>Chunked page</title>\n</head>\n<body>\n<h1>Chunked page</h1>\n",
    b"<p>Chunked page text</p>\n",
    b"</body>\n</html>\n",
)
CHUNKED_HTML = b"".join(CHUNKS)
COOKIES_HTML = html_page("Cookie page", "<h1>Cookie page</h1>\n<p>Cookie page</p>")
SLOW_HTML = html_page("Slow page", "<h1>Slow page</h1>\n<p>Slow page text</p>")
UTF8_HTML = html_page(
    "Svensk källa", "<h1>Svensk källa</h1>\n<p>Källa på svenska: åäö</p>", lang="sv"
)
BLOGROLL_HTML = html_page("Blogroll page", "<p>A friendly blog, linked from the sidebar.</p>")
FOOTER_HTML = html_page("Footer page", "<p>Linked from the footer.</p>")
PDF_BYTES = make_pdf()
PNG_BYTES = make_png()
# A page whose requisites are one good image and URLs no request can be made for.
BAD_REQUISITES_HTML = html_page(
    "Bad requisites",
    '<h1>Bad requisites</h1>\n<p><img src="/image.png" alt="good"> <img src="http://%zz/a.png" alt="bad host"> '
    '<img src="http://[::1/b.png" alt="unclosed bracket"></p>\n<script src="http://a..b/c.js"></script>',
)

QUERY_TARGET = "/pages/query.html?a=1&b=two"
MAX_DELAY = 30.0

#: Responses of the sites server by path; ``site_response`` adds the query and gzip cases.
SITE_ROUTES: dict[str, MockResponse] = {
    "/pages/plain.html": _html(200, PLAIN_HTML),
    "/pages/final.html": _html(200, FINAL_HTML),
    "/pages/blogroll.html": _html(200, BLOGROLL_HTML),
    "/pages/footer.html": _html(200, FOOTER_HTML),
    "/redirect/start": _redirect(302, "/redirect/middle"),
    "/redirect/middle": _redirect(301, "/pages/final.html"),
    "/missing.html": _html(404, MISSING_HTML),
    "/error.html": _html(500, ERROR_HTML),
    "/gzip.html": MockResponse(
        200,
        (("Content-Type", HTML), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")),
        GZIP_HTML,
    ),
    "/chunked.html": MockResponse(200, (("Content-Type", HTML),), CHUNKED_HTML, CHUNKS),
    "/doc.pdf": MockResponse(200, (("Content-Type", "application/pdf"),), PDF_BYTES),
    "/cookies.html": _html(
        200, COOKIES_HTML, ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")
    ),
    "/slow.html": _html(200, SLOW_HTML),
    "/image.png": MockResponse(200, (("Content-Type", "image/png"),), PNG_BYTES),
    "/utf8.html": _html(200, UTF8_HTML),
    "/pages/bad-requisites.html": _html(200, BAD_REQUISITES_HTML),
    # A host getaddrinfo cannot even encode (an empty label): the hop is archived, the fetch fails.
    "/redirect/bad-host": _redirect(302, "http://a..b/x"),
}
GZIP_IDENTITY = MockResponse(
    200, (("Content-Type", HTML), ("Vary", "Accept-Encoding")), GZIP_IDENTITY_HTML
)
NO_ROUTE = _html(404, NO_ROUTE_HTML)


def site_response(target: str, accept_encoding: str = "gzip, deflate") -> MockResponse:
    """What the sites server answers to ``GET target`` (path plus raw query)."""
    path, _, query = target.partition("?")
    if path.startswith("/canary/"):
        from tests.mocksite import canary  # replay-isolation pages

        return canary.site_response(path, query) or NO_ROUTE
    if path == "/pages/query.html":
        return _html(200, query_page(query))
    if path == "/gzip.html" and "gzip" not in accept_encoding.lower():
        return GZIP_IDENTITY
    return SITE_ROUTES.get(path, NO_ROUTE)


def slow_delay(query: str) -> float:
    """Seconds ``/slow.html`` waits: ``delay`` from the query, default 1, capped at 30."""
    values = parse_qs(query).get("delay")
    delay = float(values[0]) if values else 1.0  # ValueError: the server answers 400
    if delay != delay:  # NaN
        raise ValueError("delay is not a number")
    return min(max(delay, 0.0), MAX_DELAY)


#: Request target → exact body bytes on the wire (de-chunked; gzip bytes for /gzip.html,
#: as sent when the request accepts gzip).
EXPECTED_BODIES: dict[str, bytes] = {
    **{path: response.body for path, response in SITE_ROUTES.items()},
    QUERY_TARGET: query_page("a=1&b=two"),
}

# ---------------------------------------------------------------------------- the blog

SOURCES_PATH = "/2024/01/sources.html"
LOOPBACK_PATH = "/2024/01/loopback.html"
BROKEN_LINKS_PATH = "/2024/02/broken-links.html"

#: The citations of the sources post, in order: (target on the sites server, anchor text).
SOURCES_CITATIONS: tuple[tuple[str, str], ...] = (
    ("/pages/plain.html", "a plain page"),
    (QUERY_TARGET, "a page with a query string"),
    ("/redirect/start", "a link that redirects twice"),
    ("/missing.html", "a page that has gone missing"),
    ("/error.html", "a page whose server always fails"),
    ("/gzip.html", "a compressed page"),
    ("/chunked.html", "a page sent in chunks"),
    ("/doc.pdf", "the PDF report"),
    ("/cookies.html", "a page that sets cookies"),
    ("/utf8.html", "en källa på svenska med åäö"),
)
#: Links of the sources post that are not citations (nav, aside, footer, mailto, fragment).
SOURCES_NON_CITATIONS: tuple[str, ...] = (
    "/",
    "/about",
    "/archive",
    "/tag/x",
    "{sites}/pages/blogroll.html",
    "mailto:someone@example.org",
    "#footnote",
    "{sites}/pages/footer.html",
)
LOOPBACK_CITATIONS: tuple[tuple[str, str], ...] = (("/pages/plain.html", "the plain page"),)


_NAV = (
    '<header>\n<p class="site-title">The Mock Blog</p>\n'
    '<nav><a href="/">Home</a> <a href="/about">About</a> '
    '<a href="/archive">Archive</a> <a href="/tag/x">Tag x</a></nav>\n</header>'
)


def _blog_page(title: str, main: str, sites: str) -> bytes:
    aside = (
        '<aside>\n<h2>Blogroll</h2>\n'
        f'<ul><li><a href="{sites}/pages/blogroll.html">A friendly blog</a></li></ul>\n</aside>'
    )
    footer = (
        "<footer>\n<p>Powered by nothing at all. "
        f'<a href="{sites}/pages/footer.html">Footer link</a></p>\n</footer>'
    )
    return html_page(title, f"{_NAV}\n<main>\n{main}\n</main>\n{aside}\n{footer}")


def sources_post(sites: str) -> bytes:
    """The blog post citing every kind of page; ``sites`` is the sites base URL, no slash."""
    href = {path: escape(f"{sites}{path}") for path, _ in SOURCES_CITATIONS}
    text = dict(SOURCES_CITATIONS)
    article = f"""<article>
<h1>Sources and citations</h1>
<p class="meta">Posted on <time datetime="2024-01-15">15 January 2024</time>. Questions: <a href="mailto:someone@example.org">write to me</a>.</p>
<p>Every claim needs a source. The simplest is <a href="{href["/pages/plain.html"]}">{text["/pages/plain.html"]}</a> that says exactly what it says. Some sources need parameters, like <a href="{href[QUERY_TARGET]}">{text[QUERY_TARGET]}</a>, and some have moved: <a href="{href["/redirect/start"]}">{text["/redirect/start"]}</a> still gets you there in the end.</p>
<p>Others are less kind. There is <a href="{href["/missing.html"]}">{text["/missing.html"]}</a>, and <a href="{href["/error.html"]}">{text["/error.html"]}</a>, which is why we archive.<sup><a href="#footnote">1</a></sup></p>
<p>Servers also differ in how they send bytes: <a href="{href["/gzip.html"]}">{text["/gzip.html"]}</a>, <a href="{href["/chunked.html"]}">{text["/chunked.html"]}</a>, and <a href="{href["/doc.pdf"]}">{text["/doc.pdf"]}</a> that is not HTML at all.</p>
<p>Some set state, like <a href="{href["/cookies.html"]}">{text["/cookies.html"]}</a>. And not every source is in English: here is <a href="{href["/utf8.html"]}">{text["/utf8.html"]}</a>.</p>
<p id="footnote"><small>1. Footnotes are not citations.</small></p>
</article>"""
    return _blog_page("Sources and citations", article, sites)


def loopback_post(sites: str) -> bytes:
    """A post citing one page on the sites server only (for the SSRF guard's tests)."""
    path, text = LOOPBACK_CITATIONS[0]
    article = f"""<article>
<h1>Loopback</h1>
<p>This post cites only <a href="{escape(sites + path)}">{text}</a>, which lives on a loopback address.</p>
</article>"""
    return _blog_page("Loopback", article, sites)


def broken_links_post(sites: str) -> bytes:
    """A post whose broken links (BROKEN_HREFS, a quotation's cite, a bare URL) sit between good ones."""
    plain, final = escape(f"{sites}/pages/plain.html"), escape(f"{sites}/pages/final.html")
    broken = "\n".join(
        f'<p>Broken number {n}: <a href="{escape(href)}">bad link {n}</a> in a sentence.</p>'
        for n, href in enumerate(BROKEN_HREFS, 1)
    )
    article = f"""<article>
<h1>Broken links</h1>
<p>Good first: <a href="{plain}">the plain page</a>.</p>
{broken}
<blockquote cite="{escape(BROKEN_CITE)}"><p>A quotation from a source with a broken address.</p></blockquote>
<p>A bare address: {escape(BROKEN_BARE)} is in this sentence.</p>
<p>Not citations: <a href="mailto:someone@example.org">mail</a>, <a href="javascript:void(0)">a script</a>, <a href="#top">the top</a>.</p>
<p>Fetched, then in trouble: <a href="{escape(sites)}/redirect/bad-host">a redirect to a bad host</a>, <a href="{escape(sites)}/pages/bad-requisites.html">a page with bad images</a> and <a href="{escape(sites)}{escape(LONG_PATH)}">a very long address</a>.</p>
<p>Good last: <a href="{final}">the final page</a>.</p>
</article>"""
    return _blog_page("Broken links", article, sites)


#: The broken hrefs of the blog's broken-links post (BROKEN_LINKS_PATH), each with the reason it gets.
BROKEN_HREFS: tuple[str, ...] = (
    "http://%zz/",
    "http://[::1",
    "http://example.org:99999/x",
    "https://256.1.1.1/",
    "http://ex ample.org/",
    "http://a..b/",
    "//[zz]/scheme-relative",
    "http://" + "h" * 100_000 + ".example/",
)
BROKEN_CITE = "http://%41%zz/quote"
BROKEN_BARE = "http://999.999.999.999/bare"
#: A path on the sites server longer than Scrapy's URLLENGTH_LIMIT (2083) once joined.
LONG_PATH = "/pages/plain.html?q=" + "x" * 2100


_POST_LIST = (
    f'<ul><li><a href="{SOURCES_PATH}">Sources and citations</a></li>\n'
    f'<li><a href="{LOOPBACK_PATH}">Loopback</a></li></ul>'
)
_BLOG_PAGES = {
    "/": ("The Mock Blog", f"<h1>Posts</h1>\n{_POST_LIST}"),
    "/about": ("About", "<h1>About</h1>\n<p>A blog that exists only for tests.</p>"),
    "/archive": ("Archive", f"<h1>Archive</h1>\n{_POST_LIST}"),
}


#: A post that takes ``post_delay`` seconds to answer and cites ``n`` slow pages (``delay`` seconds each),
#: tagged ``tag``: the signal tests interrupt a run before, during and after its post is read.
SLOW_POST_PATH = "/slow-post.html"


def slow_post(query: str, sites: str) -> bytes:
    values = parse_qs(query)
    count = min(int(values.get("n", ["10"])[0]), 1000)
    delay = min(max(float(values.get("delay", ["0.3"])[0]), 0.0), MAX_DELAY)
    tag = escape(values.get("tag", ["t"])[0])
    links = "".join(
        f'<p>Source {i} is <a href="{sites}/slow.html?delay={delay:g}&amp;{tag}={i}">page {i}</a>.</p>\n'
        for i in range(count)
    )
    return html_page("A slow post", f"<article>\n{links}</article>")


def blog_response(target: str, sites: str) -> MockResponse:
    """What the blog server answers to ``GET target``; ``sites`` is the sites base URL."""
    path, _, query = target.partition("?")
    if path == SLOW_POST_PATH:
        post_delay = min(max(float(parse_qs(query).get("post_delay", ["0"])[0]), 0.0), MAX_DELAY)
        time.sleep(post_delay)
        return _html(200, slow_post(query, sites))
    if path == SOURCES_PATH:
        return _html(200, sources_post(sites))
    if path == LOOPBACK_PATH:
        return _html(200, loopback_post(sites))
    if path == BROKEN_LINKS_PATH:
        return _html(200, broken_links_post(sites))
    if path in _BLOG_PAGES:
        title, main = _BLOG_PAGES[path]
        return _html(200, _blog_page(title, main, sites))
    if path.startswith("/tag/") and path.count("/") == 2 and len(path) > 5:
        tag = escape(path[5:])
        main = f"<h1>Tag: {tag}</h1>\n{_POST_LIST}"
        return _html(200, _blog_page(f"Tag {tag}", main, sites))
    return NO_ROUTE
