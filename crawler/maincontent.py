"""Find a post's article body in parsed HTML and tell boilerplate from content."""

from __future__ import annotations

import re
from typing import Any

import lxml.etree
import lxml.html

# lxml ships no type stubs we can rely on: elements are typed loosely.
Element = Any

# Tried in order; among several matches the one with the most text wins.
_MAIN_XPATHS = (
    "//article",
    "//main",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' entry-content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' post-content ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' post-body ')]",
    "//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]",
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' article-content ')]",
)

# Never visible, or never part of what the author wrote.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "meta", "link",
        "nav", "aside", "footer", "form", "button", "select", "textarea", "iframe",
        "svg", "math", "object", "embed", "canvas", "dialog",
    }
)  # fmt: skip
# Only dropped when there is no article body and the whole <body> is used: inside an
# article, <header> holds its title.
_FALLBACK_SKIP_TAGS = frozenset({"header"})
_FALLBACK_SKIP_TOKENS = frozenset({"header", "top", "banner"})
_SKIP_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "doc-backlink"}
)
# class/id tokens of navigation, sidebars, comments, share buttons, author boxes,
# "related posts" and similar blocks. Not "widget" alone: Blogger wraps the post
# itself in <div class="widget Blog">; its sidebar widgets have their own names.
_BOILERPLATE_TOKEN = re.compile(
    r"""^(?:
      comments?|comment-(?:list|area|respond|section|wrapper|thread)|commentlist
      |comments-(?:area|section|list|wrapper|container)|respond|disqus_thread
      |share|shares|sharing|sharedaddy|share-(?:buttons?|links?|bar|box|icons?|tools)
      |social-(?:share|sharing|links|buttons|icons)|addtoany|a2a_kit
      |related|related-(?:posts?|articles?|content|stories|entries)
      |jp-relatedposts|yarpp-related|crp_related
      |author|byline|authorbox|about-author|author-(?:box|bio|info|card|profile)
      |post-author|entry-author|post-meta|entry-meta|article-meta
      |sidebar|widgets|widget-area|blogarchive|linklist|popularposts|blog-pager
      |nav|navbar|navigation|menu|site-header|masthead|footer|site-footer|breadcrumbs?|skip-link
      |newsletter|subscribe|advertisement|ads|sponsored
      |tags-links|cat-links|post-tags|post-navigation|nav-links
    )$""",
    re.VERBOSE,
)
# Footnotes, sidenotes and reference lists hold citations even inside <footer>/<aside>.
_NOTES_TOKEN = re.compile(
    r"^(?:(?:foot|end|side|margin)-?notes?|references?|bibliography|citations?"
    r"|sources|works-cited)$"
)
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def parse_html(html: str) -> Element | None:
    """Parse ``html`` leniently; return the root element, or None if there is none."""
    # lxml refuses str input with an XML encoding declaration; hand it UTF-8 bytes
    # and say so, so <meta charset> in the text cannot override the decoding.
    data = html.replace("\x00", "\ufffd").encode("utf-8", "replace")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None


def tokens(el: Element) -> list[str]:
    """The lower-cased class and id tokens of ``el``."""
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower().split()


def is_boilerplate(el: Element, *, fallback: bool = False) -> bool:
    """True if ``el`` and everything in it is not part of the article text."""
    tag = el.tag
    if not isinstance(tag, str):
        return True  # comments and processing instructions
    toks = tokens(el)
    if any(_NOTES_TOKEN.match(t) for t in toks):
        return False
    tag = tag.lower()
    if tag in _SKIP_TAGS or (fallback and tag in _FALLBACK_SKIP_TAGS):
        return True
    if fallback and not _FALLBACK_SKIP_TOKENS.isdisjoint(toks):
        return True
    if (el.get("role") or "").strip().lower() in _SKIP_ROLES:
        return True
    if el.get("hidden") is not None or _DISPLAY_NONE.search(el.get("style") or ""):
        return True
    return any(_BOILERPLATE_TOKEN.match(t) for t in toks)


def inside_boilerplate(el: Element, stop: Element | None = None) -> bool:
    """True if ``el`` or an ancestor below ``stop`` (default: ``<body>``) is boilerplate."""
    node: Element | None = el
    while node is not None and node is not stop:
        tag = node.tag
        if tag in ("body", "html") and stop is None:
            return False
        if is_boilerplate(node):
            return True
        node = node.getparent()
    return False


def _text_length(el: Element) -> int:
    return sum(len("".join(s.split())) for s in el.itertext())


def find_main_content(root: Element) -> tuple[Element, bool]:
    """Return the article body element and whether it is the ``<body>`` fallback."""
    for xpath in _MAIN_XPATHS:
        candidates = [el for el in root.xpath(xpath) if not inside_boilerplate(el)]
        if candidates:
            return max(candidates, key=_text_length), False
    body = root.find("body")
    return (body if body is not None else root), True


def trailing_footer(body: Element) -> list[Element]:
    """The children of a page without an article body that follow its last top-level
    ``<hr>``, when they hold little of its text: hand-written pages put their
    signature, badges and webring links there."""
    children = [child for child in body if isinstance(child.tag, str)]
    rules = [i for i, child in enumerate(children) if child.tag.lower() == "hr"]
    if not rules:
        return []
    tail = children[rules[-1] + 1 :]
    total = _text_length(body)
    if not tail or total == 0 or sum(_text_length(el) for el in tail) * 4 > total:
        return []
    return tail


def find_title(root: Element, content: Element) -> str | None:
    """``og:title``, else the first ``<h1>`` in the article body, else ``<title>``."""
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:title":
            title = " ".join((meta.get("content") or "").split())
            if title:
                return title
    for h1 in content.iter("h1"):
        title = " ".join(h1.text_content().split())
        if title and not inside_boilerplate(h1, content):
            return title
    for el in root.iter("title"):
        title = " ".join(el.text_content().split())
        if title:
            return title
    return None
