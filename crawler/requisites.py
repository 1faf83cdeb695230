"""Find what an HTML page or a stylesheet needs to render (images, CSS, fonts, scripts, frames)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import lxml.html

from crawler.htmlparse import parse_document
from crawler.urls import resolve_href, resolve_url

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

logger = logging.getLogger(__name__)

__all__ = ["Requisite", "Role", "css_requisites", "html_requisites", "parse_srcset"]

#: What a requisite is to the page: decides the Accept header and whether its body is parsed.
Role = Literal["image", "stylesheet", "font", "script", "icon", "frame"]

# Attributes lazy-loading themes and libraries (lazysizes, lozad, WP Rocket, jQuery lazyload)
# keep the real URL in until a script moves it into src / srcset.
LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-bg", "data-background")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")
ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"})
PRELOAD_AS: dict[str, Role] = {"style": "stylesheet", "script": "script", "font": "font", "image": "image"}
BACKGROUND_TAGS = frozenset({"body", "table", "td", "th", "tr"})

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_STRING = r"""(?:"([^"\n]*)"|'([^'\n]*)')"""
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?" + _CSS_STRING + r"|@import\s+url\(\s*([^)'\"\s]+)\s*\)", re.I)
_CSS_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_CSS_IMAGE_SET = re.compile(r"image-set\(([^;{}]*)", re.IGNORECASE)
_CSS_BARE_STRING = re.compile(_CSS_STRING)


@dataclass(frozen=True, slots=True)
class Requisite:
    """An absolute http(s) URL (without fragment) a document needs, and what it is to it.

    The URL may be malformed (a bad host or port): the crawl then lists it as skipped, with why.
    """

    url: str
    role: Role


class _Found:
    """Requisites in first-seen order, one per URL (the first role wins)."""

    def __init__(self) -> None:
        self.items: dict[str, Requisite] = {}

    def add(self, base: str, href: str | None, role: Role) -> None:
        if not href or href.lstrip()[:5].lower() in ("data:", "blob:"):
            return
        url = resolve_href(base, href)
        if url is None:
            return
        url = url.partition("#")[0]  # urldefrag would raise on a malformed authority
        if url not in self.items:
            self.items[url] = Requisite(url, role)

    def extend(self, requisites: Iterable[Requisite]) -> None:
        for requisite in requisites:
            self.items.setdefault(requisite.url, requisite)


def parse_srcset(value: str) -> list[str]:
    """The candidate URLs of a ``srcset`` (HTML's algorithm: URLs may contain commas)."""
    urls: list[str] = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < end and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:  # skip the descriptors, up to a comma outside parentheses
            depth = 0
            while pos < end and not (value[pos] == "," and depth == 0):
                depth += {"(": 1, ")": -1}.get(value[pos], 0)
                depth = max(depth, 0)
                pos += 1
        if url:
            urls.append(url)
    return urls


def _first(*groups: str | None) -> str | None:
    return next((g for g in groups if g is not None), None)


def css_requisites(css: str, base_url: str, *, inline: bool = False) -> list[Requisite]:
    """What a stylesheet (or, with ``inline``, a ``style`` attribute) references.

    ``@import`` gives stylesheets, ``url()`` inside ``@font-face`` gives fonts, any other
    ``url()`` (and ``image-set()`` strings) gives images. URLs resolve against ``base_url``,
    the stylesheet's own URL (CSS Values 4, section 4.5.1).
    """
    found = _Found()
    css = _CSS_COMMENT.sub(" ", css)
    if not inline:
        for match in _CSS_IMPORT.finditer(css):
            found.add(base_url, _first(*match.groups()), "stylesheet")
        for block in _CSS_FONT_FACE.finditer(css):
            for match in _CSS_URL.finditer(block.group(0)):
                found.add(base_url, _first(*match.groups()), "font")
    for match in _CSS_URL.finditer(css):
        found.add(base_url, _first(*match.groups()), "image")
    for match in _CSS_IMAGE_SET.finditer(css):
        for string in _CSS_BARE_STRING.finditer(match.group(1)):
            found.add(base_url, _first(*string.groups()), "image")
    return list(found.items.values())


def _parse(html: str, page_url: str) -> lxml.html.HtmlElement | None:
    if not html.strip():
        return None
    # Bytes, so an XML declaration with an encoding inside the text does not raise.
    parsed = parse_document(html.encode("utf-8"), remove_pis=False)
    for warning in parsed.warnings:  # what follows that point in the page is not searched
        logger.warning("Page requisites of %(url)s: %(warning)s", {"url": page_url, "warning": warning})
    root = parsed.root
    return root if isinstance(root, lxml.html.HtmlElement) else None


def _base(root: lxml.html.HtmlElement, page_url: str) -> str:
    for href in root.xpath("//base/@href"):
        url = resolve_url(page_url, str(href))
        if url is not None:
            return url
    return page_url


#: Tags html_requisites reads, whatever their attributes.
_REQUISITE_TAGS = frozenset(
    {"img", "input", "source", "link", "script", "iframe", "frame", "video", "image", "use", "style"} | BACKGROUND_TAGS
)
#: Attributes that make any element worth reading.
_REQUISITE_ATTRIBUTES = frozenset({"style", *LAZY_SRC, *LAZY_SRCSET})


def _elements(root: lxml.html.HtmlElement) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """The elements html_requisites reads, with their tag name (lower case, prefix dropped).

    Its tags, and any element with a ``style`` or lazy-loading attribute. Most
    elements of a page (paragraphs, links, list items) are none of these and are
    skipped here, before the per-element checks: a third of the time.
    """
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower().rpartition(":")[2]
        if tag in _REQUISITE_TAGS or not _REQUISITE_ATTRIBUTES.isdisjoint(element.attrib):
            yield element, tag


def html_requisites(html: str, page_url: str, *, frames: bool = True) -> list[Requisite]:
    """What the HTML document at ``page_url`` needs to render, in document order.

    Images (``src``, ``srcset``, ``<picture><source>``, lazy-loading ``data-*`` attributes,
    video posters, ``background`` attributes), stylesheets (``<link>`` and what ``<style>``
    imports), fonts and images referenced by inline CSS, scripts, icons, preloads and, when
    ``frames`` is true, iframe documents. Media files, links and alternate stylesheets are
    not requisites: rendering the page does not fetch them.
    """
    root = _parse(html, page_url)
    if root is None:
        return []
    base = _base(root, page_url)
    found = _Found()
    for element, tag in _elements(root):
        get = element.get
        if tag == "img" or (tag == "input" and (get("type") or "").lower() == "image"):
            found.add(base, get("src"), "image")
        if tag in ("img", "source"):
            for url in parse_srcset(get("srcset") or ""):
                found.add(base, url, "image")
            if tag == "source" and element.getparent() is not None and element.getparent().tag == "picture":
                found.add(base, get("src"), "image")
        if tag != "iframe" or frames:
            for name in LAZY_SRC:
                found.add(base, get(name), "frame" if tag == "iframe" else "image")
        for name in LAZY_SRCSET:
            for url in parse_srcset(get(name) or ""):
                found.add(base, url, "image")
        if tag == "link":
            _link(found, base, element)
        elif tag == "script":
            found.add(base, get("src"), "script")
        elif tag in ("iframe", "frame") and frames:
            found.add(base, get("src"), "frame")
            if tag == "iframe" and get("srcdoc"):
                found.extend(html_requisites(get("srcdoc") or "", base, frames=False))
        elif tag == "video":
            found.add(base, get("poster"), "image")
        elif tag in ("image", "use"):  # SVG; <use href="#id"> is local and resolves to nothing
            found.add(base, get("href") or get("xlink:href") or get("{http://www.w3.org/1999/xlink}href"), "image")
        elif tag == "style":
            found.extend(css_requisites(element.text_content(), base))
        if tag in BACKGROUND_TAGS:
            found.add(base, get("background"), "image")
        if get("style"):
            found.extend(css_requisites(get("style") or "", base, inline=True))
    return list(found.items.values())


def _link(found: _Found, base: str, element: lxml.html.HtmlElement) -> None:
    rels = set((element.get("rel") or "").lower().split())
    href = element.get("href")
    if "stylesheet" in rels and "alternate" not in rels:
        found.add(base, href, "stylesheet")
    if rels & ICON_RELS or rels == {"shortcut", "icon"}:
        found.add(base, href, "icon")
    if rels & {"preload", "modulepreload"}:
        role = PRELOAD_AS.get((element.get("as") or "").lower(), "script" if "modulepreload" in rels else None)
        if role is not None:
            found.add(base, href, role)
            for url in parse_srcset(element.get("imagesrcset") or ""):
                found.add(base, url, role)
