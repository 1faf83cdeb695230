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
    describe,
    find_main_content,
    find_title,
    is_boilerplate,
    is_share_endpoint,
    outermost,
    parse_html,
    parse_html_checked,
    share_bars,
    trailing_footer,
)
from crawler.published import published_date
from crawler.urls import MalformedURL, citation_key, key_or_none, resolve_href, resolve_url, site_of

if TYPE_CHECKING:
    from crawler.maincontent import Element
    from crawler.rules import AppliedRules, Rules

__all__ = ["Citation", "Extraction", "PostDocument", "canonical_url", "citation_key", "decode_html", "extract_post"]

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
class Extraction:
    """How a post's citations were found: the manifest's ``extraction`` object.

    ``container`` names the element read as the article body (``article#post-7``, ``body``);
    ``fallback`` says no article body was recognised and the whole ``<body>`` was read;
    ``rule`` names the rules (crawler/rules.py) that applied; ``warnings`` say what may be
    missing (the parser gave up, a rule's selector matched nothing, relative links without a base).
    """

    container: str
    fallback: bool
    rule: str | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"container": self.container, "fallback": self.fallback, "rule": self.rule, "warnings": list(self.warnings)}


@dataclass(frozen=True, slots=True)
class PostDocument:
    """A post: its own URL (the base), its title, what it cites and how that was found."""

    url: str | None
    title: str | None
    citations: list[Citation]
    extraction: Extraction | None = None
    published: str | None = None  # ISO 8601, as the page (or front matter, or feed) declares it


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
    context: str | None = None  # set for a link an include rule takes from a skipped block


class _Walker:
    """Walks the article body once: its visible text, with hard breaks ("\\n") at
    block boundaries, and the span of that text each citation covers."""

    def __init__(
        self, base: str | None, post_url: str | None, include_internal: bool, rules: AppliedRules | None = None
    ):
        self.base = base
        self.rules = rules
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
        forced = False
        if self.rules is not None:
            if self.rules.excluded(url):
                return None
            forced = self.rules.included(url)
        if is_share_endpoint(url) and not forced:
            return None  # "share this on ...": not a source
        try:
            key, skip_reason = citation_key(url), None
        except MalformedURL as exc:  # a citation all the same: listed, skipped, with why
            key, skip_reason = MALFORMED_KEY_PREFIX + url, str(exc)
        if key == self.post_key:
            return None  # the post itself
        if not self.include_internal and self.post_site is not None and not forced:
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
                if self.rules is not None and self.rules.include:
                    self._forced_links(el)
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
            if accepted is not None and (self._forced(accepted[0]) or not self._is_image_viewer(el, accepted[0])):
                hits.append(_Hit(*accepted, self.length, element=el))
        self.hits.extend(hits)
        return hits

    def _forced(self, url: str) -> bool:
        return self.rules is not None and self.rules.included(url) and not self.rules.excluded(url)

    def _forced_links(self, skipped: Element) -> None:
        """Links in a block the rules skip (boilerplate, a drop selector) that an include rule
        makes citations all the same, at the block's place, with the sentence of their own block."""
        for el in skipped.iter("a", "blockquote", "q"):
            href = el.get("href") if el.tag == "a" else el.get("cite")
            if not href:
                continue
            accepted = self._accept(href)
            if accepted is None or not self._forced(accepted[0]):
                continue
            anchor = normalize_space(el.text_content()) or accepted[0]
            block = next((a for a in el.iterancestors() if a.tag in _BLOCK_TAGS), el)
            text = normalize_space(block.text_content())
            start = max(text.find(anchor), 0)
            context = context_for(text, start, start + len(anchor)) if text else ""
            self.hits.append(_Hit(*accepted, self.length, self.length, anchor, el, context=context))


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


def _containers(root: Element, rules: AppliedRules | None, warnings: list[str]) -> tuple[list[Element], bool]:
    """The elements read as the article body, and whether that is the ``<body>`` fallback."""
    if rules is not None and rules.content is not None:
        chosen = outermost(rules.content(root))
        if chosen:
            return chosen, False
        warnings.append(
            f"the rule {rules.content_rule}: content {rules.content.css!r} matched nothing in the page; "
            "the article body was chosen as without the rule"
        )
    content, fallback = find_main_content(root)
    return [content], fallback


def extract_post(
    html: str, base_url: str | None, *, include_internal: bool = False, rules: Rules | None = None
) -> PostDocument:
    """Find every source the post in ``html`` cites, in document order.

    ``base_url`` is the post's own URL: relative links resolve against it (or against
    ``<base href>``), links to it are dropped, and links to its site are dropped
    unless ``include_internal``. Without it, relative links are dropped and no link is
    internal. ``rules`` (crawler/rules.py) may name the article body, blocks to skip, URLs
    always or never cited and citations to add. Never raises on malformed HTML; what may be
    missing (the parser gave up, a rule matched nothing) is in the result's ``extraction``.
    """
    parsed = parse_html_checked(html)
    warnings = list(parsed.warnings)
    applied = rules.for_post(base_url) if rules else None
    rule_name = applied.name if applied is not None else None
    root = parsed.root
    if root is None:
        warnings.append("the document has no HTML to read")
        citations = _added_citations([], applied, warnings)
        return PostDocument(base_url, None, citations, Extraction("none", True, rule_name, tuple(warnings)))
    containers, fallback = _containers(root, applied, warnings)
    base = base_url
    for el in root.iter("base"):
        if el.get("href"):
            base = resolve_url(base_url, el.get("href")) or base_url
            break
    walker = _Walker(base, base_url, include_internal, applied)
    if fallback:
        walker.skip.update(trailing_footer(containers[0]))
    if applied is not None:
        walker.skip.update(el for selector in applied.drop for el in selector(root))
    for number, content in enumerate(containers):
        if number:
            walker._break()  # several elements matched a rule's content selector: a block each
        walker.skip.update(share_bars(content))
        walker.walk(content, fallback)
    if walker.unresolved:
        logger.warning(
            "Dropped %(n)d relative link(s): no base URL to resolve them against; "
            "pass the post's URL (e.g. url: in the front matter)",
            {"n": walker.unresolved},
        )
        warnings.append(
            f"dropped {walker.unresolved} relative link(s): no base URL to resolve them against "
            "(pass the post's URL: --base, or url: in the front matter)"
        )
    text = "".join(walker.parts)
    citations = [
        Citation(
            n=n,
            url=hit.url,
            key=hit.key,
            anchor_text=_anchor_text(hit, text),
            context=hit.context if hit.context is not None else context_for(text, hit.start, max(hit.end, hit.start)),
            skip_reason=hit.skip_reason,
        )
        for n, hit in enumerate(walker.hits, start=1)
    ]
    citations = _added_citations(citations, applied, warnings)
    container = " + ".join(describe(el) for el in containers[:3]) + (" + …" if len(containers) > 3 else "")
    extraction = Extraction(container, fallback, rule_name, tuple(warnings))
    published = published_date(root, containers[0])
    return PostDocument(base_url, find_title(root, containers[0]), citations, extraction, published)


def _added_citations(citations: list[Citation], rules: AppliedRules | None, warnings: list[str]) -> list[Citation]:
    """``citations`` and, after them, the rules' ``cite`` entries not already among them."""
    if rules is None or not rules.cite:
        return citations
    out = list(citations)
    known = {c.key: c.n for c in out}
    for extra in rules.cite:
        try:
            key, skip_reason = citation_key(extra.url), None
        except MalformedURL as exc:
            key, skip_reason = MALFORMED_KEY_PREFIX + extra.url, str(exc)
        if key in known:
            warnings.append(f"a rule's cite {extra.url} is cited by the page already (n={known[key]}): not added again")
            continue
        known[key] = len(out) + 1
        out.append(Citation(len(out) + 1, extra.url, key, extra.anchor_text or extra.url, extra.context, skip_reason))
    return out
