"""Make the Scrapy request for a post, citation or requisite URL, or say in one line why none can be made."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import scrapy

from crawler.urls import is_resolvable_host, url_problem


class Unrequestable(ValueError):
    """No request can be made for a URL; the message is the reason its outcome gives."""


def make_request(url: str, max_length: int, **kwargs: Any) -> scrapy.Request:
    """``scrapy.Request(url, **kwargs)``, or :class:`Unrequestable` with the reason.

    A URL urllib or w3lib rejects (``Request`` would raise ValueError wherever it is
    made, in ``start`` or a callback, and cost every output after it), one whose host
    ``getaddrinfo`` cannot take (see :func:`~crawler.urls.url_problem`), and one longer
    than ``max_length`` (``URLLENGTH_LIMIT``: Scrapy's UrlLengthMiddleware would drop
    it with an INFO line, leaving its citation "not attempted"), get a reason instead.
    """
    try:
        parts = urlsplit(url)
        written, _ = parts.hostname, parts.port  # urllib: the port raises when malformed
        request = scrapy.Request(url, **kwargs)
        host = urlsplit(request.url).hostname or ""
    except ValueError as exc:
        raise Unrequestable(f"malformed URL: {url_problem(url) or ' '.join(str(exc).split())[:200]}") from exc
    # "http:///x" has no host for urllib; w3lib reads it as "http://x/", a host nobody wrote.
    if not written or not is_resolvable_host(host):
        raise Unrequestable(f"malformed URL: {url_problem(url) or 'it has no host'}")
    if max_length and len(request.url) > max_length:
        raise Unrequestable(
            f"not fetched: the URL is {len(request.url)} characters long, over URLLENGTH_LIMIT ({max_length}); "
            "raise it (-s URLLENGTH_LIMIT=N) to fetch it"
        )
    return request
