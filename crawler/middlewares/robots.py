"""Reads each origin's robots.txt once per run, records its verdict on every request, and blocks by policy."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from w3lib.url import safe_url_string

from crawler.middlewares.addressguard import BlockedRequest
from crawler.middlewares.capture import HOPS_META_KEY

if TYPE_CHECKING:
    from protego import Protego
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: ``named``: only rules that name citearchive's product token block (Perma.cc's policy);
#: ``obey``: a disallow in the named group or in the ``*`` group blocks; ``record``: nothing
#: blocks; ``ignore``: robots.txt is not fetched at all.
POLICIES = ("named", "obey", "record", "ignore")
ROBOTS_META_KEY = "archive_robots"  # the verdict, copied to redirect hops and retries
ROBOTS_REQUEST_KEY = "archive_robots_request"  # marks the robots.txt fetch itself
_SEVERITY = {"allowed": 0, "unavailable": 1, "disallowed": 2}
_LOCATION_FIELDS = ("timestamp", "warc_file", "offset", "length", "record_id")


class RobotsDisallowed(BlockedRequest):
    """A request the robots.txt policy refused; its message is the manifest's reason."""


def robots_url_for(url: str) -> str:
    """The robots.txt of ``url``'s origin: scheme, host and port (RFC 9309 §2.3)."""
    parts = urlsplit(safe_url_string(url))
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port is not None and parts.port != default_port else ""
    return f"{parts.scheme}://{host}{port}/robots.txt"


def names_agent(rules: Protego, token: str) -> bool:
    """Whether a group of ``rules`` names ``token`` rather than leaving it to ``*``.

    Protego has no public call for this; its own matcher (the one ``can_fetch`` uses:
    product token at a token boundary, longest match wins, RFC 9309 §2.2.1) is asked.
    """
    matched = rules._get_matching_rule_set(token)
    return matched is not None and matched.user_agent != "*"


@dataclass(slots=True)
class RobotsRules:
    """One origin's robots.txt as fetched: parsed rules, or why there are none."""

    url: str
    http_status: int | None = None
    parser: ProtegoRobotParser | None = None
    detail: str | None = None  # why no rules could be read
    location: dict[str, Any] = field(default_factory=dict)  # its response record in the WARC

    def verdict(self, url: str, token: str, policy: str) -> dict[str, Any]:
        """The manifest's ``robots`` object for fetching ``url`` as ``token``."""
        entry: dict[str, Any] = {"verdict": "allowed", "policy": policy, "group": None}
        if self.parser is None:
            entry.update(verdict="unavailable", detail=self.detail)
        elif names_agent(self.parser.rp, token) and not self.parser.allowed(url, token):
            entry.update(verdict="disallowed", group=token)
        elif not self.parser.allowed(url, "*"):
            entry.update(verdict="disallowed", group="*")
        entry.update(url=self.url, http_status=self.http_status, **self.location)
        return entry


def blocks(verdict: dict[str, Any], token: str) -> bool:
    """Whether the verdict stops the fetch under its policy."""
    if verdict["verdict"] != "disallowed":
        return False  # no rules could be read: the fetch itself tells what the server does
    if verdict["policy"] == "obey":
        return True
    return bool(verdict["policy"] == "named" and verdict["group"] == token)


def block_reason(verdict: dict[str, Any], token: str) -> str:
    if verdict["group"] == token:
        return f"robots.txt disallows {token}"
    return f"robots.txt disallows {token} (rule for all robots, User-agent: *; --robots obey)"


class RobotsMiddleware:
    """Fetches ``/robots.txt`` once per origin per run through the whole downloader (so the
    SSRF guard, politeness and the WARC capture apply to it) and judges every request.

    Sits after the address guard (560): a literal forbidden address is refused before its
    robots.txt is asked for. ``ROBOTSTXT_USER_AGENT`` is the product token matched.
    """

    DOWNLOAD_PRIORITY = 1000  # as Scrapy's RobotsTxtMiddleware; the origin's requests wait before its slot

    def __init__(self, crawler: Crawler, policy: str, token: str):
        self.crawler = crawler
        self.policy = policy
        self.token = token
        self._rules: dict[str, RobotsRules | Deferred[None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        policy = crawler.settings.get("ARCHIVE_ROBOTS", "named")
        if policy not in POLICIES:
            # Never a silent NotConfigured: a typo must not turn robots.txt off.
            raise ValueError(f"ARCHIVE_ROBOTS must be one of {', '.join(POLICIES)}, not {policy!r}")
        if policy == "ignore":
            raise NotConfigured
        token = crawler.settings.get("ROBOTSTXT_USER_AGENT") or "citearchive"
        return cls(crawler, policy, token)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(ROBOTS_REQUEST_KEY):
            return
        rules = await self.rules_for(robots_url_for(request.url))
        verdict = rules.verdict(request.url, self.token, self.policy)
        previous = request.meta.get(ROBOTS_META_KEY)
        # A redirect hop or retry keeps the most severe verdict met on the way.
        if previous is None or _SEVERITY[verdict["verdict"]] > _SEVERITY[previous["verdict"]]:
            request.meta[ROBOTS_META_KEY] = verdict
        self.crawler.stats.inc_value(f"archive/robots/verdict/{verdict['verdict']}")
        if blocks(verdict, self.token):
            self.crawler.stats.inc_value("archive/robots/blocked")
            raise RobotsDisallowed(block_reason(verdict, self.token))

    async def rules_for(self, robots_url: str) -> RobotsRules:
        """The origin's rules, fetched on first use; later callers wait for that one fetch."""
        known = self._rules.get(robots_url)
        if isinstance(known, RobotsRules):
            return known
        if known is not None:
            # Every waiter shares one Deferred, whose result only the first sees: read the table.
            await maybe_deferred_to_future(known)
            fetched = self._rules[robots_url]
            assert isinstance(fetched, RobotsRules)
            return fetched
        waiting: Deferred[None] = Deferred()
        self._rules[robots_url] = waiting
        rules = await self._fetch(robots_url)
        self._rules[robots_url] = rules
        waiting.callback(None)
        return rules

    async def _fetch(self, robots_url: str) -> RobotsRules:
        assert self.crawler.engine is not None
        request = Request(
            robots_url,
            priority=self.DOWNLOAD_PRIORITY,
            callback=NO_CALLBACK,
            # One attempt: a dead host would otherwise cost the retries twice.
            meta={ROBOTS_REQUEST_KEY: True, "dont_retry": True},
            dont_filter=True,
        )
        self.crawler.stats.inc_value("archive/robots/requests")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - any failure means "no rules", recorded with its reason
            from twisted.python.failure import Failure

            from crawler.outcomes import describe_failure

            failure = Failure(exc)  # type: ignore[no-untyped-call]  # Twisted's constructor is untyped
            detail = str(exc) if isinstance(exc, BlockedRequest) else describe_failure(failure)
            logger.info("No robots.txt rules for %(url)s: %(detail)s", {"url": robots_url, "detail": detail})
            return RobotsRules(robots_url, detail=detail, location=_location(request.meta))
        return self._parse(robots_url, response)

    def _parse(self, robots_url: str, response: Response) -> RobotsRules:
        location = _location(response.meta)
        self.crawler.stats.inc_value(f"archive/robots/status/{response.status}")
        if 200 <= response.status < 300:
            parser = ProtegoRobotParser.from_crawler(self.crawler, response.body)
            return RobotsRules(robots_url, response.status, parser, location=location)
        from crawler.outcomes import status_text

        # 4xx: no rules (RFC 9309 §2.3.1.3). 5xx: unreachable (§2.3.1.4); recorded, not a block.
        detail = f"the server answered {status_text(response.status)}"
        return RobotsRules(robots_url, response.status, detail=detail, location=location)


def _location(meta: dict[str, Any]) -> dict[str, Any]:
    """Where the robots.txt response (its last hop) lies in the WARC, if it was recorded."""
    hops = meta.get(HOPS_META_KEY) or []
    return {name: hops[-1].get(name) for name in _LOCATION_FIELDS} if hops else {}
