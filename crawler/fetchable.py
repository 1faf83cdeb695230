"""Make the Scrapy request for a post, citation or requisite URL, or say in one line why none can be made."""

from __future__ import annotations

from typing import Any

import scrapy

from crawler.urls import url_problem


class Unrequestable(ValueError):
    """No request can be made for a URL; the message is the reason its outcome gives."""


def make_request(url: str, max_length: int, **kwargs: Any) -> scrapy.Request:
    """``scrapy.Request(url, **kwargs)``, or :class:`Unrequestable` with the reason.

    A URL urllib or w3lib rejects (``Request`` would raise ValueError wherever it is
    made, in ``start`` or a callback, and cost every output after it), and one longer
    than ``max_length`` (``URLLENGTH_LIMIT``: Scrapy's UrlLengthMiddleware would drop
    it with an INFO line, leaving its citation "not attempted"), get a reason instead.
    """
    problem = url_problem(url)
    if problem is not None:
        raise Unrequestable(f"malformed URL: {problem}")
    try:
        request = scrapy.Request(url, **kwargs)
    except ValueError as exc:
        raise Unrequestable(f"malformed URL: {' '.join(str(exc).split())[:200]}") from exc
    if max_length and len(request.url) > max_length:
        raise Unrequestable(
            f"not fetched: the URL is {len(request.url)} characters long, over URLLENGTH_LIMIT ({max_length}); "
            "raise it (-s URLLENGTH_LIMIT=N) to fetch it"
        )
    return request
