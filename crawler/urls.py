"""Resolve cited URLs, key them for dedup, and tell which site they belong to."""

from __future__ import annotations

import functools
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "mc_eid", "mc_cid", "yclid", "msclkid", "_hsenc", "_hsmi",
     "igshid", "ref_src"}
)  # fmt: skip
DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_WHITESPACE = re.compile(r"[\t\n\r]")


def citation_key(url: str) -> str:
    """The dedup key of ``url``: canonicalised, without fragment or tracking params.

    The key only decides what is fetched once; the citation keeps the URL as written.
    Default ports are dropped too (``http://a:80/`` and ``http://a/`` are one page).
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket: nothing to canonicalise
        return url.strip()
    query = "&".join(
        p for p in parts.query.split("&") if p and not _is_tracking(p.split("=", 1)[0])
    )
    netloc = parts.netloc
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port == DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = netloc.rsplit(":", 1)[0]
    return canonicalize_url(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


def _is_tracking(name: str) -> bool:
    name = name.strip().lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


def resolve_url(base: str | None, href: str) -> str | None:
    """``href`` made absolute against ``base``; None unless it is an http(s) URL."""
    href = _URL_WHITESPACE.sub("", href.strip())
    if not href or href.startswith("#"):
        return None
    try:
        url = urljoin(base, href) if base else href
        parts = urlsplit(url)
        if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
            return None
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    return url


@functools.cache
def _tld_extract() -> tldextract.TLDExtract:
    # The bundled suffix snapshot only: no network, no disk cache. Private suffixes
    # count, so alice.github.io and bob.github.io are different sites.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def site_of(url: str) -> tuple[str, ...] | None:
    """The site of ``url``: its registered domain, else (no domain: IPs, localhost)
    its host and port. None if ``url`` has no host."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not host:
        return None
    return _site_of_host(host, port)


@functools.lru_cache(maxsize=4096)
def _site_of_host(host: str, port: int) -> tuple[str, ...]:
    ext = _tld_extract()(host)
    if ext.domain and ext.suffix:
        return ("domain", f"{ext.domain}.{ext.suffix}".lower())
    return ("host", host, str(port))
