"""Say what a post source argument is and read local posts (HTML, Markdown) and feeds."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from crawler.citations import PostDocument, canonical_url, decode_html, extract_post
from crawler.feeds import FEED_SUFFIXES, Feed, FeedError, parse_feed
from crawler.markdown_post import FrontMatterError, parse_markdown_post
from crawler.published import iso_date
from crawler.urls import url_problem

if TYPE_CHECKING:
    from crawler.rules import Rules

logger = logging.getLogger(__name__)

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
URL_LIST_SUFFIXES = frozenset({".txt"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# A host name: labels of letters (any script), digits, "-" and "_"; or an IP literal.
_HOST = re.compile(r"^(?:[\w-]+(?:\.[\w-]+)*\.?|\[[0-9A-Fa-f:.]+\])$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class SourceError(ValueError):
    """A post source cannot be used; the message is one line saying what to do."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a post comes from: a URL to fetch, a local HTML or Markdown file, a local
    RSS/Atom feed (its entries are the posts) or a text file listing URLs."""

    kind: Literal["url", "html", "markdown", "feed", "urllist"]
    location: str


def _show(arg: str) -> str:
    """``arg`` fit for a one-line message."""
    return repr(arg) if not arg.isprintable() or not arg.strip() else arg


def _check_url(arg: str) -> str:
    scheme = _SCHEME.match(arg)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        name = scheme.group(1) if scheme else ""
        raise SourceError(f"unsupported URL scheme {name!r} in {_show(arg)}: give an http(s) URL")
    try:
        parts = urlsplit(arg)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise SourceError(f"malformed URL {_show(arg)}: {exc}") from exc
    if not arg[len(scheme.group(0)) :].startswith("//"):
        raise SourceError(f"malformed URL {_show(arg)}: expected {scheme.group(1)}://host/path")
    host = parts.netloc.rpartition("@")[2]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") and ":" in host else host
    if not host:
        raise SourceError(f"malformed URL {_show(arg)}: it has no host name")
    if any(ch.isspace() for ch in host):
        raise SourceError(f"malformed URL {_show(arg)}: the host name contains spaces")
    if not _HOST.match(host):
        raise SourceError(f"malformed URL {_show(arg)}: invalid host name {host!r}")
    if any(ch.isspace() for ch in arg) or _CONTROL.search(arg):
        raise SourceError(
            f"malformed URL {_show(arg)}: it contains spaces or control characters; "
            "percent-encode them (a space is %20)"
        )
    problem = url_problem(arg)  # what the crawl's parsers (w3lib, Scrapy) would refuse
    if problem is not None:
        raise SourceError(f"malformed URL {_show(arg)}: {problem}")
    return arg


def check_base_url(url: str, what: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL a request could be made for; else SourceError."""
    url = url.strip()
    parts = _SCHEME.match(url)
    problem = url_problem(url) if parts and parts.group(1).lower() in ("http", "https") else "not an http(s) URL"
    if problem is not None:
        raise SourceError(f"{what} must be an absolute http(s) URL, got {_show(url)}: {problem}")
    return url


def parse_source(arg: str) -> Source:
    """Classify a command-line post argument.

    An http(s) URL is fetched; an existing ``.html``/``.htm``/``.xhtml`` or
    ``.md``/``.markdown`` file is read. Anything else raises :class:`SourceError`.
    """
    arg = arg.strip()
    if not arg:
        raise SourceError("empty post source: give an http(s) URL or a .html/.md file")
    scheme = _SCHEME.match(arg)
    # One-letter "schemes" are Windows drive letters (C:\posts\x.html).
    if scheme and len(scheme.group(1)) > 1:
        if arg[scheme.end() :].startswith("//") or scheme.group(1).lower() in ("http", "https"):
            return Source("url", _check_url(arg))
    try:
        path = Path(arg).expanduser()
        is_dir, is_file = path.is_dir(), path.is_file()
    except (OSError, RuntimeError, ValueError) as exc:  # name too long, unknown ~user, a NUL byte, ...
        raise SourceError(f"cannot use post path {_show(arg)}: {exc}") from exc
    if is_dir:
        raise SourceError(f"post source is a directory: {_show(arg)}; give a .html or .md file")
    if not is_file:
        raise SourceError(
            f"post file not found: {_show(arg)} (for a web page give an http(s):// URL)"
        )
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return Source("html", str(path.resolve()))
    if suffix in MARKDOWN_SUFFIXES:
        return Source("markdown", str(path.resolve()))
    if suffix in FEED_SUFFIXES:
        return Source("feed", str(path.resolve()))
    if suffix in URL_LIST_SUFFIXES:
        return Source("urllist", str(path.resolve()))
    raise SourceError(
        f"unsupported post file type {suffix or '(none)'!r}: {_show(arg)}; "
        "expected .html, .htm, .xhtml, .md, .markdown, a feed (.xml, .rss, .atom) "
        "or a list of URLs (.txt)"
    )


def _read(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"post file not found: {_show(path)}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read post file {_show(path)}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SourceError(f"post file is empty: {_show(path)}")
    return data


def _check_text(text: str, path: str, what: str) -> None:
    """Refuse binary garbage: NULs, or many control/replacement characters."""
    bad = len(_CONTROL.findall(text[:65536]))
    if "\x00" in text or bad > max(8, len(text[:65536]) // 100):
        raise SourceError(f"post file is not {what} (binary data?): {_show(path)}")


@dataclass(frozen=True)
class LocalPost:
    """A local post read, decoded and checked, before extraction."""

    html: str
    base_url: str | None
    title: str | None = None  # from Markdown front matter
    published: str | None = None  # its date: (ISO 8601)


def read_local_post(source: Source, *, base_url: str | None = None) -> LocalPost:
    """Read and check a local post (every error a one-line :class:`SourceError`), without extracting.

    The base URL is ``base_url`` if given, else the one the file declares
    (``<link rel=canonical>``/``og:url``, or ``url:`` in Markdown front matter), else
    None: then relative links are dropped (with a warning) and no link is internal.
    """
    if source.kind not in ("html", "markdown"):
        raise SourceError(f"not a local post: {_show(source.location)} is a {source.kind} source")
    data = _read(source.location)
    if source.kind == "html":
        html = decode_html(data, url=base_url)
        _check_text(html, source.location, "HTML")
        return LocalPost(html, base_url or canonical_url(html))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"Markdown post is not UTF-8 (bad byte at offset {exc.start}): {_show(source.location)}; "
            "re-save it as UTF-8"
        ) from exc
    _check_text(text, source.location, "Markdown text")
    try:
        post = parse_markdown_post(text)
    except FrontMatterError as exc:
        raise SourceError(f"bad front matter in {_show(source.location)}: {exc}") from exc
    title = post.front_matter.get("title")
    title_text = " ".join(str(title).split()) if title is not None and str(title).strip() else None
    published = iso_date(post.front_matter.get("date"))
    return LocalPost(post.html, base_url or _front_matter_url(post.front_matter, source.location), title_text, published)


def load_local_post(
    source: Source, *, base_url: str | None = None, include_internal: bool = False, rules: Rules | None = None
) -> PostDocument:
    """Read a local post and extract its citations (see :func:`read_local_post`), applying ``rules``."""
    post = read_local_post(source, base_url=base_url)
    doc = extract_post(post.html, post.base_url, include_internal=include_internal, rules=rules)
    if post.title is not None:
        doc = replace(doc, title=post.title)
    if post.published is not None:
        doc = replace(doc, published=post.published)
    return doc


def _front_matter_url(front_matter: dict[str, object], path: str) -> str | None:
    url = front_matter.get("url")
    if url is None:
        return None
    if not isinstance(url, str):
        raise SourceError(
            f"front matter url: in {_show(path)} must be an absolute http(s) URL, got {url!r}"
        )
    return check_base_url(url, f"front matter url: in {_show(path)}")


def load_local_feed(source: Source) -> Feed:
    """Read a local RSS or Atom file; relative entry links resolve against the feed's
    own ``<link>`` (feedparser's xml:base handling)."""
    if source.kind != "feed":
        raise SourceError(f"not a feed file: {_show(source.location)}")
    try:
        return parse_feed(_read(source.location))
    except FeedError as exc:
        raise SourceError(f"{_show(source.location)}: {exc}") from exc
