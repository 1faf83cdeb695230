"""Find a post's article body in parsed HTML and tell boilerplate from content."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crawler.htmlparse import ParsedDocument, parse_document

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
# Share bars under any naming scheme: a class/id token one of whose words (split at
# "-" and "_", so BEM's "block__element--modifier" too) is "share"/"sharing":
# page__share, entry__share, post-share, share-buttons, c-share__link, btn--share.
_SHARE_WORD = re.compile(r"^(?:share|shares|sharing|sharebar|sharethis|shareaholic)$")
_WORD_SEPARATORS = re.compile(r"[-_]+")
# Comments, webmentions, related posts, author boxes and bylines under any naming scheme:
# a class token one of whose words is one of these (wp-block-post-author__bio,
# webmentions__list, c-comment, related-posts__item). Class tokens only: ids are often
# made from headings ("related-work", "comments-on-the-draft").
_BOILERPLATE_WORD = re.compile(
    r"^(?:comments?|webmentions?|related|byline|authors?|authorbox)$"
)
# ...unless the token names a state or a taxonomy (has-comments, tag-related,
# category-authors) or a note (author-note, editors-note): those are content.
_STATE_OR_TAXONOMY_PREFIX = re.compile(r"^(?:has|is|no|with|tag|tags|category|cat|topic)[-_]")
_NOTE_WORD = re.compile(r"^(?:(?:foot|end|side|margin)?notes?|references?|citations?)$")
# Footnotes, sidenotes and reference lists hold citations even inside <footer>/<aside>.
_NOTES_TOKEN = re.compile(
    r"^(?:(?:foot|end|side|margin)-?notes?|references?|bibliography|citations?"
    r"|sources|works-cited)$"
)
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def parse_html(html: str) -> Element | None:
    """Parse ``html`` leniently; return the root element, or None if there is none."""
    return parse_html_checked(html).root


def parse_html_checked(html: str) -> ParsedDocument:
    """Parse ``html`` leniently (no depth or text-size truncation, crawler/htmlparse.py);
    the root element (None if there is none) and where the parser still gave up."""
    # lxml refuses str input with an XML encoding declaration; hand it UTF-8 bytes
    # and say so, so <meta charset> in the text cannot override the decoding.
    return parse_document(html.replace("\x00", "\ufffd").encode("utf-8", "replace"))


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
    if any(_BOILERPLATE_TOKEN.match(t) or _is_share_token(t) for t in toks):
        return True
    return any(_is_boilerplate_class(t) for t in (el.get("class") or "").lower().split())


def _is_share_token(token: str) -> bool:
    return any(_SHARE_WORD.match(word) for word in _WORD_SEPARATORS.split(token))


def _is_boilerplate_class(token: str) -> bool:
    if _STATE_OR_TAXONOMY_PREFIX.match(token):
        return False
    words = _WORD_SEPARATORS.split(token)
    if any(_NOTE_WORD.match(word) for word in words):
        return False
    return any(_BOILERPLATE_WORD.match(word) for word in words)


# Share endpoints: (host, path prefix). A link to one is never a citation, and a block
# whose links all go to them is a share bar, whatever its markup.
_SHARE_ENDPOINTS = (
    ("twitter.com", "/intent/"), ("twitter.com", "/share"), ("x.com", "/intent/"),
    ("x.com", "/share"), ("facebook.com", "/sharer"), ("facebook.com", "/share.php"),
    ("facebook.com", "/dialog/share"), ("facebook.com", "/dialog/feed"),
    ("linkedin.com", "/sharing/"), ("linkedin.com", "/sharearticle"),
    ("linkedin.com", "/cws/share"), ("reddit.com", "/submit"),
    ("news.ycombinator.com", "/submitlink"), ("pinterest.com", "/pin/create"),
    ("bsky.app", "/intent/"), ("threads.net", "/intent/"), ("t.me", "/share"),
    ("telegram.me", "/share"), ("api.whatsapp.com", "/send"), ("web.whatsapp.com", "/send"),
    ("wa.me", "/"), ("tumblr.com", "/widgets/share"), ("tumblr.com", "/share"),
    ("getpocket.com", "/save"), ("getpocket.com", "/edit"), ("vk.com", "/share.php"),
    ("xing.com", "/spi/shares"), ("xing.com", "/social/share"), ("buffer.com", "/add"),
    ("bufferapp.com", "/add"), ("flipboard.com", "/bookmarklet"),
    ("social-plugins.line.me", "/lineit/share"), ("service.weibo.com", "/share"),
    ("toot.kytta.dev", "/"), ("s2f.kytta.dev", "/"), ("mastodonshare.com", "/"),
)  # fmt: skip
_SHARE_SCHEMES = frozenset({"whatsapp", "tg", "sms", "fb-messenger"})
# Any server's own share form (Mastodon's /share?text=..., Jetpack's ?share=service).
_SHARE_PATHS = frozenset({"/share", "/intent/tweet", "/intent/compose"})
_TEXT_OUTSIDE_SHARE_LINKS = 60


def is_share_endpoint(url: str) -> bool:
    """True if ``url`` asks a service to share the page (tweet it, mail it, post it)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme in _SHARE_SCHEMES:
        return True
    if scheme == "mailto":
        return not parts.path.strip()  # mailto:?subject=...: mail this page to someone
    if scheme not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    path = parts.path.lower() or "/"
    for domain, prefix in _SHARE_ENDPOINTS:
        if (host == domain or host.endswith("." + domain)) and path.startswith(prefix):
            return True
    params = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if path.rstrip("/") in _SHARE_PATHS and params & {"text", "url", "u"}:
        return True
    return "share" in params and "nb" in params  # Jetpack: ?share=twitter&nb=1


def share_bars(content: Element) -> list[Element]:
    """The blocks in ``content`` whose links all go to share endpoints, with little
    text besides ("Share on ... or ..."): share bars under any markup."""
    bars: list[Element] = []
    seen: set[Element] = set()
    for link in content.iter("a"):
        if not is_share_endpoint(link.get("href") or ""):
            continue
        best = None
        node = link.getparent()
        while node is not None and node is not content and node not in seen:
            seen.add(node)
            if not _only_share_links(node):
                break
            best = node
            node = node.getparent()
        if best is not None:
            bars.append(best)
    return bars


def _only_share_links(el: Element) -> bool:
    outside = _text_length(el)
    for link in el.iter("a"):
        if not is_share_endpoint(link.get("href") or ""):
            return False
        outside -= _text_length(link)
    return outside <= _TEXT_OUTSIDE_SHARE_LINKS


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


def _in_list_item(el: Element) -> bool:
    """True if ``el`` is inside an ``<li>``: one entry of a list (comments, mentions,
    related cards), not the post."""
    return any(node.tag == "li" for node in el.iterancestors())


def find_main_content(root: Element) -> tuple[Element, bool]:
    """Return the article body element and whether it is the ``<body>`` fallback."""
    for xpath in _MAIN_XPATHS:
        candidates = [
            el for el in root.xpath(xpath) if not inside_boilerplate(el) and not _in_list_item(el)
        ]
        if candidates:
            return max(candidates, key=_text_length), False
    body = root.find("body")
    return (body if body is not None else root), True


def describe(el: Element) -> str:
    """A CSS-like name for ``el`` in messages and the manifest: ``article#post-7``, ``div.post-body``, ``body``."""
    tag = el.tag.lower() if isinstance(el.tag, str) else "?"
    ident = " ".join((el.get("id") or "").split()[:1])
    if ident:
        return f"{tag}#{ident}"
    classes = (el.get("class") or "").split()
    return f"{tag}.{classes[0]}" if classes and tag not in ("body", "html") else tag


def outermost(elements: list[Element]) -> list[Element]:
    """``elements`` without those inside another of them, in document order."""
    chosen = set(elements)
    return [el for el in elements if not any(a in chosen for a in el.iterancestors())]


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
