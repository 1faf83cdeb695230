"""Mock pages whose content only exists after JavaScript runs (browser mode, `--render`)."""

from __future__ import annotations

import functools
import gzip
import json
import struct
import zlib
from html import escape

from tests.mocksite.content import HTML, MockResponse, html_page

JS_POST_PATH = "/2024/03/javascript.html"
JS_PAGE = "/js/app.html"
SLOW_JS_PAGE = "/js/slow-app.html"  # its blocking script takes 25 s: the interruption test's page
SLOW_JS_POST_PATH = "/2024/03/slow-javascript.html"

#: What the script inserts, from /js/data.json: text, an image, and a block of one colour.
INSERTED_TEXT = "Inserted by JavaScript from JSON: the council approved the plan."
STATIC_TEXT = "This paragraph is in the HTML as served."
BLOCK_RGB = (18, 196, 90)  # #12c45a, a colour nothing else on the page has
BLOCK_SIZE = (640, 240)
IMAGE_RGB = (201, 37, 171)
IMAGE_SIZE = (200, 120)
IMAGE_PATH = "/js/img/inserted.png"
DATA_PATH = "/js/data.json"
SCRIPT_PATH = "/js/app.js"

JS = "text/javascript; charset=utf-8"

APP_JS = """// Builds the page's content: nothing of it is in the HTML.
fetch("data.json")
  .then(function (response) { return response.json(); })
  .then(function (data) {
    var root = document.getElementById("app");
    var text = document.createElement("p");
    text.id = "inserted-text";
    text.textContent = data.text;
    root.appendChild(text);
    var block = document.createElement("div");
    block.id = "inserted-block";
    block.style.cssText = "width:" + data.block.width + "px;height:" + data.block.height +
      "px;background:" + data.block.color + ";";
    root.appendChild(block);
    var img = document.createElement("img");
    img.id = "inserted-image";
    img.alt = "inserted";
    img.src = data.image;
    root.appendChild(img);
    document.getElementById("status").textContent = "rendered";
  });
"""


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, without gamma or colour-profile chunks (so it is painted as is)."""
    row = b"\x00" + bytes(rgb) * width
    data = zlib.compress(row * height, 9)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@functools.cache
def image_bytes() -> bytes:
    return solid_png(*IMAGE_SIZE, IMAGE_RGB)


def data_json() -> bytes:
    color = "#%02x%02x%02x" % BLOCK_RGB
    block = {"width": BLOCK_SIZE[0], "height": BLOCK_SIZE[1], "color": color}
    return json.dumps({"text": INSERTED_TEXT, "image": "img/inserted.png", "block": block}).encode()


#: The script is sent gzip-encoded: its WARC record must keep those bytes.
APP_JS_GZIP = gzip.compress(APP_JS.encode(), mtime=0)


def _page(title: str, head: str) -> bytes:
    body = (
        f"<h1>{title}</h1>\n<p>{STATIC_TEXT}</p>\n<p id=\"status\">loading</p>\n"
        '<div id="app"></div>'
    )
    return html_page(title, f"{head}\n{body}")


def site_response(target: str, accept_encoding: str) -> MockResponse | None:
    """The sites server's answer for a /js/ path; None for any other path."""
    path = target.partition("?")[0]
    if not path.startswith("/js/"):
        return None
    if path == JS_PAGE:
        return MockResponse(200, (("Content-Type", HTML),), _page("A page built by JavaScript", '<script src="app.js" defer></script>'))
    if path == SLOW_JS_PAGE:
        head = '<script src="/slow.html?delay=25"></script>\n<script src="app.js" defer></script>'
        return MockResponse(200, (("Content-Type", HTML),), _page("A slow page built by JavaScript", head))
    if path == SCRIPT_PATH:
        if "gzip" in accept_encoding:
            return MockResponse(200, (("Content-Type", JS), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")), APP_JS_GZIP)
        return MockResponse(200, (("Content-Type", JS), ("Vary", "Accept-Encoding")), APP_JS.encode())
    if path == DATA_PATH:
        return MockResponse(200, (("Content-Type", "application/json"), ("Cache-Control", "no-cache")), data_json())
    if path == IMAGE_PATH:
        return MockResponse(200, (("Content-Type", "image/png"),), image_bytes())
    return MockResponse(404, (("Content-Type", HTML),), html_page("Not Found", "<p>No such script page.</p>"))


def _post(title: str, sites: str, page: str) -> bytes:
    article = (
        f"<article>\n<h1>{title}</h1>\n<p>Some sources only exist in the browser, like "
        f'<a href="{escape(sites + page)}">a page built by JavaScript</a>.</p>\n</article>'
    )
    return html_page(title, f"<main>\n{article}\n</main>")


def blog_response(target: str, sites: str) -> MockResponse | None:
    """The blog server's answer for the JavaScript posts; None for any other path."""
    path = target.partition("?")[0]
    if path == JS_POST_PATH:
        return MockResponse(200, (("Content-Type", HTML),), _post("JavaScript sources", sites, JS_PAGE))
    if path == SLOW_JS_POST_PATH:
        return MockResponse(200, (("Content-Type", HTML),), _post("Slow JavaScript sources", sites, SLOW_JS_PAGE))
    return None
