"""The benchmark's local site: N pages of 30-80 KB HTML sharing CSS, images, fonts and a script, pre-gzipped."""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from pathlib import Path

# Text that compresses like prose (about 3-4x), not like a repeated string.
_WORDS = (
    "archive citation source link rot web page capture record replay index digest crawler "
    "blog post author editor council decision report study evidence data figure table note "
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if "
    "so no what up out more about into than them can only other new some could time these "
    "two may first then do any like my now over such our man me even most made after also"
).split()


@dataclass(slots=True)
class Site:
    """Where the site lives, its page paths, and how many body bytes each path is served as."""

    root: Path
    pages: list[str]
    requisites: list[str]
    wire_bytes: dict[str, int] = field(default_factory=dict)

    def page_bytes(self) -> int:
        return sum(self.wire_bytes[path] for path in self.pages)

    def requisite_bytes(self) -> int:
        return sum(self.wire_bytes[path] for path in self.requisites)


def _write(root: Path, path: str, data: bytes, compress: bool, site: Site) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if compress:
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        (target.parent / (target.name + ".gz")).write_bytes(packed)
        site.wire_bytes[path] = len(packed)
    else:
        site.wire_bytes[path] = len(data)


def _paragraphs(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    total = 0
    while total < size:
        words = rng.choices(_WORDS, k=rng.randint(40, 120))
        words[0] = words[0].capitalize()
        text = f"<p>{' '.join(words)}.</p>\n"
        parts.append(text)
        total += len(text)
    return "".join(parts)


def generate(root: Path, n_pages: int, seed: int = 8) -> Site:
    """Write ``n_pages`` pages under ``root/p/`` and their shared requisites; ``.gz`` next to text files."""
    rng = random.Random(seed)
    site = Site(root=root, pages=[], requisites=[])
    images = [f"/assets/img/{i:02d}.png" for i in range(12)]
    fonts = ["/assets/fonts/body.woff2", "/assets/fonts/head.woff2"]
    # Binary requisites: random bytes (incompressible, like real PNG/WOFF2), 4-24 KB.
    for path in [*images, *fonts]:
        _write(root, path, rng.randbytes(rng.randint(4_000, 24_000)), compress=False, site=site)
    base_css = (
        "".join(f"@font-face{{font-family:f{i};src:url(../fonts/{Path(p).name}) format('woff2')}}\n" for i, p in enumerate(fonts))
        + "body{font:16px/1.5 f0,serif;background:url(../img/00.png)}\n"
        + "".join(f".c{i}{{margin:{i}px;padding:{i % 7}px;color:#{i * 37 % 4096:03x}}}\n" for i in range(400))
    )
    _write(root, "/assets/css/base.css", base_css.encode(), compress=True, site=site)
    site_css = "@import url(base.css);\nh1{font-family:f1}\n" + "".join(
        f".k{i}>a:hover{{text-decoration:underline;border-left:{i % 5}px solid #{i * 91 % 4096:03x}}}\n" for i in range(300)
    )
    _write(root, "/assets/css/site.css", site_css.encode(), compress=True, site=site)
    script = "".join(f"function f{i}(a,b){{return a*{i}+b-{i % 13};}}\n" for i in range(600)).encode()
    _write(root, "/assets/js/site.js", script, compress=True, site=site)
    site.requisites = [*images, *fonts, "/assets/css/base.css", "/assets/css/site.css", "/assets/js/site.js"]

    for number in range(1, n_pages + 1):
        path = f"/p/{number:05d}.html"
        picks = rng.sample(images, 4)
        links = "".join(
            f'<li><a href="/p/{rng.randint(1, n_pages):05d}.html">related {k}</a></li>' for k in range(20)
        )
        figures = "".join(f'<figure><img src="/assets/img/{Path(p).name}" alt="figure"></figure>\n' for p in picks)
        body = _paragraphs(rng, rng.randint(30_000, 78_000))
        page = (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>Page {number}</title>"
            '<link rel=stylesheet href="/assets/css/site.css">'
            '<script src="/assets/js/site.js" defer></script></head>\n'
            f"<body><nav><ul>{links}</ul></nav><article><h1>Page {number}</h1>\n{figures}{body}</article>"
            "<footer>bench site</footer></body></html>\n"
        )
        _write(root, path, page.encode(), compress=True, site=site)
        site.pages.append(path)
    return site


def write_post(path: Path, base_url: str, pages: list[str]) -> None:
    """A local post whose article cites every page (the citearchive source)."""
    items = "\n".join(f'<li>See <a href="{base_url}{page}">source {i}</a>.</li>' for i, page in enumerate(pages, 1))
    path.write_text(
        f'<!doctype html><html><head><title>Bench post</title><link rel=canonical href="{base_url}/post/"></head>'
        f"<body><article><h1>Bench post</h1><ul>\n{items}\n</ul></article></body></html>\n",
        encoding="utf-8",
    )


def write_url_list(path: Path, base_url: str, pages: list[str]) -> None:
    path.write_text("".join(f"{base_url}{page}\n" for page in pages), encoding="utf-8")


def write_blog(site_root: Path, feed_path: Path, base_url: str, pages: list[str], per_post: int = 50, folder: str = "b") -> int:
    """A whole blog: posts under ``site_root/FOLDER/`` citing ``per_post`` pages each, and an RSS feed of them.

    The shape of the large runs users make (every post of a blog), for the memory goal:
    each post page is small, however many pages the blog cites in all. Returns the post count.
    """
    (site_root / folder).mkdir(parents=True, exist_ok=True)
    items = []
    for number, start in enumerate(range(0, len(pages), per_post), 1):
        cited = pages[start : start + per_post]
        links = "\n".join(f'<li>See <a href="{base_url}{page}">source {start + i}</a>.</li>' for i, page in enumerate(cited, 1))
        (site_root / folder / f"{number:05d}.html").write_text(
            f"<!doctype html><html><head><title>Post {number}</title></head>"
            f"<body><article><h1>Post {number}</h1><ul>\n{links}\n</ul></article></body></html>\n",
            encoding="utf-8",
        )
        items.append(f"<item><title>Post {number}</title><link>{base_url}/{folder}/{number:05d}.html</link></item>")
    feed_path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Bench blog</title>'
        f"<link>{base_url}/{folder}/</link><description>bench</description>\n" + "\n".join(items) + "\n</channel></rss>\n",
        encoding="utf-8",
    )
    return len(items)
