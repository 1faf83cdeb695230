"""Mock pages with page requisites (srcset, picture, lazy images, @import chains, web fonts, frames)."""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

from tests.mocksite.content import HTML, MockResponse, html_page, make_png

RENDER_POST_PATH = "/2024/02/rendering.html"
BROKEN_POST_PATH = "/2024/02/broken-requisites.html"
#: Pages of the rendering post: every requisite exists, so each must replay completely.
RENDER_PAGES = ("/render/images.html", "/render/styles.html", "/render/frame.html")
BROKEN_PAGES = ("/render/broken.html",)
#: The web font, copied from Debian's fonts-dejavu-core (scripts/system-packages installs it).
FONT_SOURCE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_PATH = "/render/fonts/mock-sans.ttf"

# A 1×1 GIF placeholder, as lazy-loading themes put in src until a script swaps in data-src.
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"

#: Image path → (width, height); sizes differ so no two images share a payload digest.
IMAGES: dict[str, tuple[int, int]] = {
    "plain": (120, 80), "density-1x": (100, 60), "density-2x": (200, 120), "w-160": (160, 90),
    "w-320": (320, 180), "pic-huge": (400, 100), "pic-1x": (140, 70), "pic-2x": (280, 140),
    "pic-fallback": (141, 70), "lazy": (120, 81), "lazyset-1x": (110, 60), "lazyset-2x": (220, 120),
    "absolute": (90, 45), "inline-bg": (16, 16), "poster": (160, 91), "favicon": (32, 32),
    "touch-icon": (180, 180), "style-bg": (17, 17), "c-bg": (18, 18), "shared": (19, 19),
    "frame": (100, 50), "frame-bg": (20, 20), "level1": (50, 50), "level2": (51, 51),
}  # fmt: skip

CSS = "text/css; charset=utf-8"
JS = "text/javascript; charset=utf-8"

STYLESHEETS = {
    # An @import chain: a.css → b.css (with the @font-face) → c.css (with a background image).
    "/render/css/a.css": '@import url("b.css");\nbody { margin: 1em; color: #223; }\n',
    "/render/css/b.css": (
        '@import "c.css";\n'
        '@font-face {\n  font-family: "MockSans";\n'
        '  src: url("../fonts/mock-sans.ttf") format("truetype");\n}\n'
        '.webfont { font-family: "MockSans", monospace; font-size: 28px; }\n'
    ),
    "/render/css/c.css": ".hero { background: url(../img/c-bg.png) repeat; height: 60px; }\n",
    "/render/css/shared.css": ".shared { background-image: url('/render/img/shared.png'); height: 30px; }\n",
    "/render/css/frame.css": ".framed-bg { background: url(../img/frame-bg.png); height: 30px; }\n",
    "/render/css/loop-a.css": '@import "loop-b.css";\n.loop-a { color: red; }\n',
    "/render/css/loop-b.css": '@import "loop-a.css";\n.loop-b { color: blue; }\n',
}
LAZY_JS = """// What lazy-loading themes do once the page is shown: move data-* into src and srcset.
document.querySelectorAll("img.lazy").forEach(function (img) {
  if (img.dataset.srcset) { img.srcset = img.dataset.srcset; }
  if (img.dataset.src) { img.src = img.dataset.src; }
});
"""


def _head(title: str, head: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
        f"{head}\n</head>\n<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    ).encode("utf-8")


def images_page(base: str) -> bytes:
    head = (
        '<link rel="icon" href="/render/img/favicon.png" type="image/png">\n'
        '<link rel="apple-touch-icon" href="img/touch-icon.png">\n'
        '<link rel="stylesheet" href="css/shared.css">\n'
        '<script src="js/lazy.js" defer></script>'
    )
    body = f"""<p><img id="plain" src="img/plain.png" alt="plain"></p>
<p><img id="density" src="img/density-1x.png" srcset="img/density-1x.png 1x, img/density-2x.png 2x" alt="density"></p>
<p><img id="width" srcset="img/w-160.png 160w, img/w-320.png 320w" sizes="160px" src="img/w-160.png" alt="width"></p>
<p><picture>
<source media="(min-width: 4000px)" srcset="img/pic-huge.png">
<source srcset="img/pic-1x.png 1x, img/pic-2x.png 2x" type="image/png">
<img id="picture" src="img/pic-fallback.png" alt="picture">
</picture></p>
<p><img id="lazy" class="lazy" data-src="img/lazy.png" src="{PLACEHOLDER}" alt="lazy"></p>
<p><img id="lazyset" class="lazy" data-srcset="img/lazyset-1x.png 1x, img/lazyset-2x.png 2x" src="{PLACEHOLDER}" alt="lazyset"></p>
<p><img id="absolute" src="{escape(base)}/render/img/absolute.png" alt="absolute URL"></p>
<div id="inline" style="width: 160px; height: 40px; background-image: url('img/inline-bg.png')"></div>
<div class="shared"></div>
<p><video id="video" poster="img/poster.png" width="160" height="91"></video></p>"""
    return _head("Images page", head, body)


STYLES_PAGE = _head(
    "Styles page",
    '<link rel="stylesheet" href="css/a.css">\n<link rel="stylesheet" href="css/shared.css">\n'
    '<style>\n.banner { background-image: url("img/style-bg.png"); height: 40px; }\n</style>',
    '<div class="banner"></div>\n<div class="hero">Hero</div>\n<div class="shared"></div>\n'
    '<p class="webfont">Web font text: the quick brown fox</p>',
)
FRAME_PAGE = _head(
    "Frame page",
    '<link rel="stylesheet" href="css/shared.css">',
    '<div class="shared"></div>\n<iframe id="frame" src="frame-inner.html" width="320" height="200"></iframe>',
)
FRAME_INNER = _head(
    "Inner frame",
    '<link rel="stylesheet" href="css/frame.css">',
    '<img id="framed" src="img/frame.png" alt="in the frame">\n<div class="framed-bg"></div>',
)
# broken.html: a missing image, an @import loop, and frames two deep (only one level is archived).
BROKEN_PAGE = _head(
    "Broken page",
    '<link rel="stylesheet" href="css/loop-a.css">',
    '<img src="img/missing.png" alt="gone">\n<iframe src="level1.html"></iframe>',
)
LEVEL1_PAGE = _head("Level 1", "", '<img src="img/level1.png" alt="one">\n<iframe src="level2.html"></iframe>')
LEVEL2_PAGE = _head("Level 2", "", '<img src="img/level2.png" alt="two">')


@functools.cache
def font_bytes() -> bytes | None:
    """The TrueType font served as the web font, or None when fonts-dejavu-core is missing."""
    try:
        return FONT_SOURCE.read_bytes()
    except OSError:
        return None


@functools.cache
def _png(name: str) -> bytes:
    return make_png(*IMAGES[name])


def site_response(target: str, base: str) -> MockResponse | None:
    """The sites server's answer for a /render/ path; None for any other path."""
    path = target.partition("?")[0]
    if not path.startswith("/render/"):
        return None
    pages = {
        "/render/styles.html": STYLES_PAGE,
        "/render/frame.html": FRAME_PAGE,
        "/render/frame-inner.html": FRAME_INNER,
        "/render/broken.html": BROKEN_PAGE,
        "/render/level1.html": LEVEL1_PAGE,
        "/render/level2.html": LEVEL2_PAGE,
    }
    if path == "/render/images.html":
        return MockResponse(200, (("Content-Type", HTML),), images_page(base))
    if path in pages:
        return MockResponse(200, (("Content-Type", HTML),), pages[path])
    if path in STYLESHEETS:
        return MockResponse(200, (("Content-Type", CSS),), STYLESHEETS[path].encode())
    if path == "/render/js/lazy.js":
        return MockResponse(200, (("Content-Type", JS),), LAZY_JS.encode())
    if path == FONT_PATH and (font := font_bytes()) is not None:
        return MockResponse(200, (("Content-Type", "font/ttf"),), font)
    name = path.removeprefix("/render/img/").removesuffix(".png")
    if path.startswith("/render/img/") and path.endswith(".png") and name in IMAGES:
        return MockResponse(200, (("Content-Type", "image/png"),), _png(name))
    return MockResponse(404, (("Content-Type", HTML),), html_page("Not Found", "<p>No such requisite.</p>"))


def _post(title: str, sites: str, pages: tuple[str, ...]) -> bytes:
    items = "\n".join(f'<li><a href="{escape(sites + page)}">the {page.rsplit("/", 1)[1]} page</a></li>' for page in pages)
    article = f"<article>\n<h1>{title}</h1>\n<p>Pages that need their requisites to render:</p>\n<ul>\n{items}\n</ul>\n</article>"
    return html_page(title, f"<main>\n{article}\n</main>")


def blog_response(target: str, sites: str) -> MockResponse | None:
    """The blog server's answer for the requisite posts; None for any other path."""
    path = target.partition("?")[0]
    if path == RENDER_POST_PATH:
        return MockResponse(200, (("Content-Type", HTML),), _post("Rendering", sites, RENDER_PAGES))
    if path == BROKEN_POST_PATH:
        return MockResponse(200, (("Content-Type", HTML),), _post("Broken requisites", sites, BROKEN_PAGES))
    return None
