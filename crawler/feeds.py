"""Read RSS and Atom feeds with feedparser: each entry is a post, optionally limited by date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import feedparser

from crawler.urls import url_problem

FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml",
     "application/xml", "text/xml"}
)  # fmt: skip
# The root element of RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom, after any prolog.
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>/]", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE)
_SNIFF = 4096


class FeedError(ValueError):
    """Not a usable feed; the message is one line saying what to do."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One post of a feed: its link (fetched as the post) and, if the feed carries it,
    its full HTML content (used only when there is no link)."""

    link: str | None
    title: str | None
    published: datetime | None
    content: str | None


@dataclass(frozen=True, slots=True)
class Feed:
    title: str | None
    link: str | None
    entries: list[FeedEntry]


def looks_like_feed(body: bytes, content_type: str | None = None) -> bool:
    """True if ``body`` is RSS or Atom: by its root element, whatever the Content-Type says."""
    head = body[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_ROOT.search(head[:512]):
        return False
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml"):
        return False
    return _FEED_ROOT.search(head) is not None


def parse_since(text: str) -> datetime:
    """``--since``: a date (``2024-05-01``, midnight UTC) or an ISO 8601 date-time."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FeedError(f"invalid date {text!r}: use YYYY-MM-DD or an ISO 8601 date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)


def _content(entry: Any) -> str | None:
    for item in entry.get("content") or []:
        if "html" in (item.get("type") or "") and item.get("value"):
            return str(item["value"])
    summary = entry.get("summary_detail") or {}
    if "html" in (summary.get("type") or "") and summary.get("value"):
        return str(summary["value"])
    return None


def _link(entry: Any) -> str | None:
    """The entry's http(s) page; not a urn: id (feedparser offers an id as the link too).

    A link no request can be made for is kept only when there is no other: the crawl
    then lists the entry as a post skipped with the reason.
    """
    candidates = [
        link.get("href") for link in entry.get("links") or [] if link.get("rel", "alternate") == "alternate"
    ]
    candidates.append(entry.get("link"))  # an RSS permalink guid lands here too
    urls = [str(c or "").strip() for c in candidates]
    urls = [url for url in urls if url.lower().startswith(("http://", "https://"))]
    return next((url for url in urls if url_problem(url) is None), urls[0] if urls else None)


def _feed_link(parsed: Any) -> str | None:
    """The feed's site (the base of entries read from their content), if a request could be made for it."""
    link = str(parsed.feed.get("link") or "").strip()
    return link if link.lower().startswith(("http://", "https://")) and url_problem(link) is None else None


def parse_feed(body: bytes, base_url: str | None = None, content_type: str | None = None) -> Feed:
    """Parse an RSS or Atom document; relative links resolve against ``base_url``.

    Never fetches anything: feedparser only ever sees the bytes.
    """
    if not looks_like_feed(body, content_type):
        raise FeedError("not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root element)")
    headers = {"content-type": content_type or "application/xml"}
    if base_url:
        headers["content-location"] = base_url
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(f"unreadable feed: {problem or 'unknown format'}")
    entries = [
        FeedEntry(link=_link(e), title=e.get("title"), published=_when(e), content=_content(e))
        for e in parsed.entries
    ]
    return Feed(title=parsed.feed.get("title"), link=_feed_link(parsed), entries=entries)


def select_entries(entries: list[FeedEntry], since: datetime | None) -> list[FeedEntry]:
    """The entries published (or updated) at or after ``since``; undated entries are kept,
    since nothing says they are older."""
    if since is None:
        return list(entries)
    return [e for e in entries if e.published is None or e.published >= since]
