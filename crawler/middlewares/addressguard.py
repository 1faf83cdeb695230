"""Turns the resolver's refusals into blocked requests; refuses literal forbidden hosts and malformed URLs early."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from twisted.internet.error import DNSLookupError
from w3lib.url import safe_url_string

from crawler.ssrf import GuardedResolver, forbidden_reason, parse_literal_host, refusal_message
from crawler.urls import is_resolvable_host, url_problem

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

ALLOWED_SCHEMES = ("http", "https")


class BlockedRequest(IgnoreRequest):
    """A request the SSRF guard refused; its message is the reason shown in the manifest."""


class MalformedRequest(IgnoreRequest):
    """A request for a URL no connection can be made to (a redirect to a bad host or port); its
    message is the reason. Citations with such URLs are skipped when read: this meets redirects."""


class AddressGuardMiddleware:
    """The request-side half of the SSRF guard (the resolver is the other half).

    Sits above RetryMiddleware (550) so a refused lookup is not retried.
    """

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getbool("ARCHIVE_ALLOW_PRIVATE"))

    @staticmethod
    def installed_resolver() -> GuardedResolver | None:
        """The guard's resolver, looked up late: Scrapy installs it when the reactor starts."""
        from twisted.internet import reactor

        resolver = getattr(reactor, "nameResolver", None)
        return resolver if isinstance(resolver, GuardedResolver) else None

    def process_request(self, request: Request) -> None:
        scheme = request.url.split(":", 1)[0].lower()
        if scheme not in ALLOWED_SCHEMES:
            raise BlockedRequest(f"the {scheme}: scheme is never fetched, only http and https")
        host = _host_of(request.url)
        if not is_resolvable_host(host):  # Request() let it through (a redirect); no lookup could
            problem = url_problem(request.url) or "it has no host"
            raise MalformedRequest(f"malformed URL {request.url[:200]!r}: {problem}")
        if self.allow_private:
            return
        ip = parse_literal_host(host)
        if ip is not None:
            reason = forbidden_reason(ip)
            if reason is not None:
                raise BlockedRequest(refusal_message(host, str(ip), reason))

    def process_exception(self, request: Request, exception: Exception) -> Response | None:
        if isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            resolver = self.installed_resolver()
            refusal = resolver.refusal_for(_host_of(request.url)) if resolver else None
            if refusal is not None:
                raise BlockedRequest(refusal) from exception
        return None


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(safe_url_string(url)).hostname or ""
