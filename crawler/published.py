"""When a post was published, as its page declares it: meta tags, JSON-LD, ``<time datetime>``.

Each of these is ISO 8601 by its own specification (Open Graph's article:published_time,
schema.org's datePublished, HTML's valid date string), so no guessing from prose is done: a
page that declares no date has none. Feeds and Markdown front matter give theirs elsewhere.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.maincontent import Element

__all__ = ["iso_date", "published_date"]

# <meta property|name|itemprop=...>, in order of trust.
_META_NAMES = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "citation_publication_date",
    "publish-date",
    "pubdate",
)
_JSON_LD_TYPES = re.compile(r"(?:Blog)?Posting|Article|NewsArticle|TechArticle|ScholarlyArticle|Report|WebPage", re.I)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_date(value: Any) -> str | None:
    """``value`` (a str, date or datetime) as ISO 8601 (``2024-05-06`` or ``2024-05-06T07:08:09+02:00``), or None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value.isoformat()
    elif not isinstance(value, str):
        return None
    elif _DATE_ONLY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return None
    if moment.tzinfo is not None and moment.utcoffset() == timezone.utc.utcoffset(None):
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def published_date(root: Element, content: Element | None = None) -> str | None:
    """The page's declared publication date: meta tags, then JSON-LD, then ``<time datetime>``
    (``itemprop=datePublished`` or ``pubdate`` anywhere, else the first in ``content``)."""
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if name in _META_NAMES and name not in metas and meta.get("content"):
            metas[name] = meta.get("content")
    for name in _META_NAMES:
        found = iso_date(metas.get(name))
        if found:
            return found
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json":
            found = _json_ld_date(script.text or "")
            if found:
                return found
    for time in root.iter("time"):
        if (time.get("itemprop") or "").lower() == "datepublished" or time.get("pubdate") is not None:
            found = iso_date(time.get("datetime"))
            if found:
                return found
    for time in (content if content is not None else root).iter("time"):
        found = iso_date(time.get("datetime"))
        if found:
            return found
    return None


def _json_ld_date(text: str) -> str | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    stack: list[Any] = [data]
    while stack:  # a @graph or a list of objects; the first typed object with a date wins
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item
        elif isinstance(item, dict):
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and _JSON_LD_TYPES.fullmatch(k) for k in kinds):
                found = iso_date(item.get("datePublished")) or iso_date(item.get("dateCreated"))
                if found:
                    return found
            graph = item.get("@graph")
            if isinstance(graph, list):
                stack.extend(graph)
    return None
