"""Extract the sources a blog post cites from its HTML: pure functions, no I/O."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from w3lib.encoding import html_to_unicode

from crawler.context import context_for, normalize_space
from crawler.maincontent import (
    find_main_content,
    find_title,
    is_boilerplate,
    is_share_endpoint,
    parse_html,
    share_bars,
    trailing_footer,
)
from crawler.urls import MalformedURL, citation_key, key_or_none, resolve_href, resolve_url, site_of

if TYPE_CHECKING:
    from crawler.maincontent import Element

__all__ = ["Citation", "PostDocument", "canonical_url", "citation_key", "decode_html", "extract_post"]

logger = logging.getLogger(__name__)

QUOTE_ANCHOR_CHARS = 80
# Elements whose boundaries end a sentence (everything else is inline).
_BLOCK_TAGS = frozenset(
    {"address", "article", "blockquote", "body", "br", "caption", "dd", "details",
     "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3",
     "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "ol",
     "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
     "tr", "ul"}
)  # fmt: skip
# A URL in running text is an example, not a source, when it sits in code.
_NO_BARE_URL_TAGS = frozenset({"a", "code", "pre", "kbd", "samp", "var"})
_BARE_URL = re.compile(r"\bhttps?://[^\s<>\"'`{}|\\^\u00a0\u200b]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"”’»)]}>*…"
_BACKREF_TEXT = frozenset({"↩", "↩︎", "↑", "^", "⤴", "⮌"})
_WHITESPACE = re.compile(r"\s+")
# A link around an image to a bigger copy of it (a lightbox) is not a source.
_IMAGE_PATH = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|tiff?)$", re.IGNORECASE)


#: What a citation's key starts with when no request can be made for its URL: no
#: http(s) URL's key does, so it never meets a capture.
MALFORMED_KEY_PREFIX = "malformed:"


@dataclass(frozen=True, slots=True)
class Citation:
    """One occurrence of a cited source in a post, in document order.

    ``skip_reason`` is set when no request can be made for ``url`` (a malformed
    host, port or escape): the citation is listed, ``skipped`` with that reason,
    and never fetched.
    """

    n: int
    url: str
    key: str
    anchor_text: str
    context: str
    skip_reason: str | None = None

    def journal_entry(self) -> dict[str, Any]:
        """The citation as a post's journal entry lists it; a skipped one carries its own capture."""
        entry: dict[str, Any] = {
            "n": self.n, "url": self.url, "key": self.key, "anchor_text": self.anchor_text, "context": self.context
        }
        if self.skip_reason is not None:
            entry["capture"] = {"status": "skipped", "reason": self.skip_reason}
        return entry


@dataclass(frozen=True, slots=True)
class PostDocument:
    """A post: its own URL (the base), its title and what it cites."""

    url: str | None
    title: str | None
    citations: list[Citation]


def decode_html(body: bytes, content_type: str | None = None, url: str | None = None) -> str:
    """Decode an HTML body as a browser would (w3lib's WHATWG encoding sniffing).

    BOM first, then the charset of the Content-Type header, then ``<meta charset>``;
    undeclared bodies are UTF-8 if they decode as such, else guessed from their bytes and
    the top-level domain of ``url``, as Firefox does (windows-1252 for most).
    """
    _, text = html_to_unicode(content_type, body, url=url)
    return text


def canonical_url(html: str, base_url: str | None = None) -> str | None:
    """The post's own URL as the document declares it: rel=canonical, else og:url."""
    root = parse_html(html)
    if root is None:
        return None
    hrefs = [
        link.get("href")
        for link in root.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    hrefs += [
        meta.get("content")
        for meta in root.iter("meta")
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:url"
    ]
    for href in hrefs:
        url = resolve_url(base_url, href or "")
        if url is not None:
            return url
    return None


@dataclass(slots=True)
class _Hit:
    url: str
    key: str
    skip_reason: str | None
    start: int
    end: int = -1
    anchor: str = ""
    element: Element | None = None
    is_quote: bool = False


class _Walker:
    """Walks the article body once: its visible text, with hard breaks ("\\n") at
    block boundaries, and the span of that text each citation covers."""

    def __init__(self, base: str | None, post_url: str | None, include_internal: bool):
        self.base = base
        self.post_key = key_or_none(post_url) if post_url else None
        self.post_site = site_of(post_url) if post_url else None
        self.include_internal = include_internal
        self.parts: list[str] = []
        self.length = 0
        self.hits: list[_Hit] = []
        self.unresolved = 0
        self.skip: set[Element] = set()

    def _append(self, text: str) -> None:
        if not self.parts or self.parts[-1][-1] in " \n":
            text = text.lstrip(" ")
        if text:
            self.parts.append(text)
            self.length += len(text)

    def _break(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
            self.length += 1

    def _accept(self, href: str) -> tuple[str, str, str | None] | None:
        """The URL ``href`` cites, its key and why it cannot be fetched (None: it can), or
        None if it is not a citation."""
        url = resolve_href(self.base, href)
        if url is None:
            stripped = href.strip()
            if self.base is None and stripped and not stripped.startswith("#"):
                if "://" not in stripped and ":" not in stripped.split("/", 1)[0]:
                    self.unresolved += 1
            return None
        if is_share_endpoint(url):
            return None  # "share this on ...": not a source
        try:
            key, skip_reason = citation_key(url), None
        except MalformedURL as exc:  # a citation all the same: listed, skipped, with why
            key, skip_reason = MALFORMED_KEY_PREFIX + url, str(exc)
        if key == self.post_key:
            return None  # the post itself
        if not self.include_internal and self.post_site is not None:
            if site_of(url) == self.post_site:
                return None
        return url, key, skip_reason

    def _text(self, text: str | None, bare_urls: bool) -> None:
        if not text:
            return
        offset = self.length
        self._append(_WHITESPACE.sub(" ", text))
        if not bare_urls or self.length == offset:
            return
        chunk = self.parts[-1]
        for match in _BARE_URL.finditer(chunk):
            url_text = _strip_trailing(match.group())
            if url_text.endswith("://"):
                continue  # "http://." in prose names the prefix, not a page
            accepted = self._accept(url_text)
            if accepted is not None:
                start = offset + match.start()
                self.hits.append(_Hit(*accepted, start, start + len(url_text), url_text))

    def walk(self, content: Element, fallback: bool) -> None:
        # Iterative depth-first walk: hostile documents may nest very deeply.
        stack: list[tuple[Element, bool, list[_Hit]]] = [(content, False, [])]
        no_bare = 0
        while stack:
            el, leaving, open_hits = stack.pop()
            tag = el.tag.lower() if isinstance(el.tag, str) else ""
            if leaving:
                for hit in open_hits:
                    hit.end = self.length
                if tag in _NO_BARE_URL_TAGS:
                    no_bare -= 1
                if tag in _BLOCK_TAGS:
                    self._break()
                if el is not content:
                    self._text(el.tail, no_bare == 0)
                continue
            if el is not content and (
                is_boilerplate(el, fallback=fallback)
                or el in self.skip
                or (tag == "a" and _is_backref(el))
            ):
                if tag in _BLOCK_TAGS:
                    self._break()
                self._text(el.tail, no_bare == 0)
                continue
            if tag in _BLOCK_TAGS:
                self._break()
            hits = self._open(el, tag)
            if tag in _NO_BARE_URL_TAGS:
                no_bare += 1
            self._text(el.text, no_bare == 0)
            stack.append((el, True, hits))
            stack.extend((child, False, []) for child in reversed(el))

    def _open(self, el: Element, tag: str) -> list[_Hit]:
        """Citations that start at ``el``: its href, its cite, or both."""
        hits = []
        if tag in ("blockquote", "q") and el.get("cite"):
            accepted = self._accept(el.get("cite"))
            if accepted is not None:
                hits.append(_Hit(*accepted, self.length, element=el, is_quote=True))
        if tag == "a" and el.get("href") is not None:
            accepted = self._accept(el.get("href"))
            if accepted is not None and not self._is_image_viewer(el, accepted[0]):
                hits.append(_Hit(*accepted, self.length, element=el))
        self.hits.extend(hits)
        return hits


    def _is_image_viewer(self, el: Element, url: str) -> bool:
        """An ``<a>`` with only an image in it, linking to an image file or to its own ``src``."""
        images = list(el.iter("img"))
        if not images or normalize_space(el.text_content()):
            return False
        try:
            path = urlsplit(url).path
        except ValueError:  # a malformed authority: no path to judge by
            path = ""
        if _IMAGE_PATH.search(path):
            return True
        key = key_or_none(url)
        return key is not None and any(
            key_or_none(resolve_url(self.base, img.get("src") or "") or "") == key for img in images
        )


def _strip_trailing(url: str) -> str:
    """Drop the sentence punctuation a bare URL is followed by, keeping balanced ")"."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _is_backref(el: Element) -> bool:
    text = normalize_space(el.text_content())
    return text in _BACKREF_TEXT or "footnote-backref" in (el.get("class") or "")


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def _anchor_text(hit: _Hit, text: str) -> str:
    visible = normalize_space(text[hit.start : hit.end])
    if hit.is_quote:
        return _shorten(visible, QUOTE_ANCHOR_CHARS) if visible else hit.url
    if hit.anchor:
        return hit.anchor
    if visible:
        return visible
    el = hit.element
    if el is not None:
        labels = [el.get("aria-label"), el.get("title")]
        labels += [img.get("alt") for img in el.iter("img")]
        for label in labels:
            if label and label.strip():
                return normalize_space(label)
    return hit.url


def extract_post(
    html: str, base_url: str | None, *, include_internal: bool = False
) -> PostDocument:
    """Find every source the post in ``html`` cites, in document order.

    ``base_url`` is the post's own URL: relative links resolve against it (or against
    ``<base href>``), links to it are dropped, and links to its site are dropped
    unless ``include_internal``. Without it, relative links are dropped and no link is
    internal. Never raises on malformed HTML.
    """
    root = parse_html(html)
    if root is None:
        return PostDocument(url=base_url, title=None, citations=[])
    content, fallback = find_main_content(root)
    base = base_url
    for el in root.iter("base"):
        if el.get("href"):
            base = resolve_url(base_url, el.get("href")) or base_url
            break
    walker = _Walker(base, base_url, include_internal)
    if fallback:
        walker.skip.update(trailing_footer(content))
    walker.skip.update(share_bars(content))
    walker.walk(content, fallback)
    if walker.unresolved:
        logger.warning(
            "Dropped %(n)d relative link(s): no base URL to resolve them against; "
            "pass the post's URL (e.g. url: in the front matter)",
            {"n": walker.unresolved},
        )
    text = "".join(walker.parts)
    citations = [
        Citation(
            n=n,
            url=hit.url,
            key=hit.key,
            anchor_text=_anchor_text(hit, text),
            context=context_for(text, hit.start, max(hit.end, hit.start)),
            skip_reason=hit.skip_reason,
        )
        for n, hit in enumerate(walker.hits, start=1)
    ]
    return PostDocument(url=base_url, title=find_title(root, content), citations=citations)
