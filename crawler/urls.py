"""Resolve cited URLs, tell which can be requested and why not, key them for dedup, and tell their site."""

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
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_EMPTY_AUTHORITY = re.compile(r"//(?:$|[/?#\\])")
# What an href is trimmed of: the C0 controls and space the URL standard strips, and the
# Unicode whitespace Python's str.strip() always did here.
_TRIM = "".join(ch for ch in map(chr, range(0x3001)) if ord(ch) <= 0x20 or ch.isspace())
_SHOWN_HOST = 40  # characters of a bad host quoted in a reason


class MalformedURL(ValueError):
    """An http(s) URL no request can be made for. The message is the one-line reason the
    manifest gives, e.g. ``malformed URL: '%zz' is not a valid host name``; ``problem`` is
    its part after ``malformed URL: ``."""

    def __init__(self, problem: str):
        super().__init__(f"malformed URL: {problem}")
        self.problem = problem


def url_problem(url: str) -> str | None:
    """Why no request can be made for the http(s) URL ``url``, or None when one can.

    The judges are the parsers the crawl uses: urllib's (``urlsplit``, its port), then
    w3lib's ``canonicalize_url`` (the citation key; it splits the URL as
    ``safe_url_string``, what Scrapy's ``Request`` applies, does), then the ``idna`` codec
    that ``getaddrinfo`` applies to the host. The reason names the part at fault.
    """
    try:
        citation_key(url)
    except MalformedURL as exc:
        return exc.problem
    return None


def citation_key(url: str) -> str:
    """The dedup key of ``url``: canonicalised, without fragment or tracking params.

    The key only decides what is fetched once; the citation keeps the URL as written.
    Default ports are dropped too (``http://a:80/`` and ``http://a/`` are one page).
    Raises :class:`MalformedURL` when no request can be made for ``url`` (see
    :func:`url_problem`): one pass of each parser serves both, as extraction calls this
    for every link.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise MalformedURL(_describe(exc, *_authority(url))) from exc
    if not hostname:
        raise MalformedURL("it has no host")
    query = "&".join(
        p for p in parts.query.split("&") if p and not _is_tracking(p.split("=", 1)[0])
    )
    netloc = parts.netloc
    if port is not None and port == DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = netloc.rsplit(":", 1)[0]
    try:
        # The fragment is split and checked as Request() would, and dropped from the key.
        key = canonicalize_url(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))
    except ValueError as exc:  # UnicodeError (IDNA) is one too
        raise MalformedURL(_describe(exc, *_authority(url))) from exc
    # What getaddrinfo is given: w3lib leaves a host it cannot IDNA-encode as written,
    # and the resolver's thread then fails outside any request's errback.
    resolved = _host_of_key(key)
    if not is_resolvable_host(resolved):
        host = _show(_authority(url)[0])
        if not resolved.isascii():
            raise MalformedURL(f"{host} is not a valid host name")
        raise MalformedURL(f"{host} is not a valid host name (a label is empty or longer than 63 characters)")
    return key


def _host_of_key(key: str) -> str:
    """The host of a canonical URL (w3lib's output), read without a second urlsplit."""
    netloc = re.split(r"[/?#]", key.partition("://")[2], maxsplit=1)[0].rpartition("@")[2]
    if netloc.startswith("["):
        return netloc[1:].partition("]")[0]  # an IPv6 address w3lib validated
    return netloc.partition(":")[0]


def is_resolvable_host(host: str) -> bool:
    """True if ``getaddrinfo`` can take ``host``: not empty, ASCII (w3lib IDNA-encodes what it
    can) and each label 1 to 63 characters (the ``idna`` codec's rule; a final dot is allowed)."""
    if not host or not host.isascii():
        return False
    # The codec's own rule for ASCII (encodings.idna), without its cost per link.
    *labels, last = host.split(".")
    return all(0 < len(label) < 64 for label in labels) and len(last) < 64


def _authority(url: str) -> tuple[str, str]:
    """The host and port of ``url`` as written (no parser that might raise)."""
    rest = url.split("://", 1)[1] if "://" in url else url.partition(":")[2].lstrip("/")
    hostport = re.split(r"[/?#\\]", rest, maxsplit=1)[0].rpartition("@")[2]
    if hostport.startswith("["):
        host, bracket, tail = hostport.partition("]")
        return host + bracket, tail[1:] if tail.startswith(":") else ""
    host, _, port = hostport.partition(":")
    return host, port


def _show(text: str) -> str:
    if len(text) > _SHOWN_HOST:
        return repr(text[: _SHOWN_HOST - 1]) + "…"
    return repr(text)


def _describe(exc: ValueError, host: str, port: str) -> str:
    """A reason for the parser error ``exc``, naming the host or port as written."""
    message = str(exc)
    if "Port" in message:
        return f"the port {_show(port)} is not a number from 0 to 65535"
    if host.startswith("["):
        return f"{_show(host)} is not a valid IPv6 address"
    if "IPv4" in message:
        return f"{_show(host)} is not a valid IPv4 address"
    if "IPv6" in message or "code point" in message or "NFKC" in message or isinstance(exc, UnicodeError):
        return f"{_show(host)} is not a valid host name"
    return " ".join(message.split())[:200] or type(exc).__name__


def key_or_none(url: str) -> str | None:
    """:func:`citation_key`, or None when ``url`` cannot be requested."""
    try:
        return citation_key(url)
    except MalformedURL:
        return None


def _is_tracking(name: str) -> bool:
    name = name.strip().lower()
    return name.startswith("utm_") or name in TRACKING_PARAMS


def resolve_href(base: str | None, href: str) -> str | None:
    """``href`` made absolute against ``base`` when it is an http(s) link, else None.

    None means "not a link to fetch": empty, a ``#fragment``, another scheme
    (``mailto:``, ``javascript:``), or relative with no base. The URL returned may
    still be malformed (a bad host, port or escape): see :func:`url_problem`. When
    its authority is empty or too broken to resolve against ``base``, it is returned
    as written (``urljoin`` would make ``https:///x`` a page of the base's host).
    """
    href = _URL_WHITESPACE.sub("", href.strip(_TRIM))
    if not href or href.startswith("#"):
        return None
    written = _SCHEME.match(href)
    scheme = written.group(1).lower() if written else None
    if scheme is None and href.startswith("//"):  # scheme-relative: the base's scheme
        base_scheme = (base or "").partition(":")[0].lower()
        if base_scheme not in DEFAULT_PORTS:
            return None
        href, scheme = f"{base_scheme}:{href}", base_scheme
        written = _SCHEME.match(href)
    rest = href[written.end() :] if written else href
    if scheme in DEFAULT_PORTS and _EMPTY_AUTHORITY.match(rest):
        return href
    try:
        url = urljoin(base, href) if base else href
        resolved = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket: urllib cannot split it
        return href if scheme in DEFAULT_PORTS else None
    return url if resolved in DEFAULT_PORTS else None


def resolve_url(base: str | None, href: str) -> str | None:
    """``href`` made absolute against ``base``; None unless it is an http(s) URL a request can be made for."""
    url = resolve_href(base, href)
    return url if url is not None and url_problem(url) is None else None


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
