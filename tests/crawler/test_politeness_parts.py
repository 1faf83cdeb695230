"""The robots.txt verdict, the policies and Retry-After parsing, called directly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from crawler.middlewares.retryafter import RetryAfterMiddleware, retry_after_seconds
from crawler.middlewares.robots import (
    RobotsMiddleware,
    RobotsRules,
    blocks,
    names_agent,
    robots_url_for,
)
from crawler.spiders.citations import CitationsSpider

TOKEN = "citearchive"
BOTH = b"""User-agent: citearchive
Disallow: /named/

User-agent: *
Disallow: /everyone/
"""
STAR_ONLY = b"User-agent: *\nDisallow: /everyone/\n"
NAMED_ALLOWS = b"User-agent: citearchive\nAllow: /\n\nUser-agent: *\nDisallow: /\n"


def rules(body: bytes) -> RobotsRules:
    return RobotsRules("http://h/robots.txt", 200, ProtegoRobotParser(body, None))


@pytest.mark.parametrize(
    ("body", "path", "verdict", "group"),
    [
        (BOTH, "/named/x", "disallowed", TOKEN),
        (BOTH, "/everyone/x", "disallowed", "*"),  # not citearchive's group, still recorded
        (BOTH, "/open", "allowed", None),
        (STAR_ONLY, "/everyone/x", "disallowed", "*"),  # no group names citearchive
        (STAR_ONLY, "/open", "allowed", None),
        (NAMED_ALLOWS, "/x", "disallowed", "*"),
        (b"", "/x", "allowed", None),
    ],
)
def test_verdict(body: bytes, path: str, verdict: str, group: str | None) -> None:
    entry = rules(body).verdict("http://h" + path, TOKEN, "named")
    assert (entry["verdict"], entry["group"]) == (verdict, group)


@pytest.mark.parametrize(
    ("policy", "named_blocks", "star_blocks"),
    [("named", True, False), ("obey", True, True), ("record", False, False)],
)
def test_policies(policy: str, named_blocks: bool, star_blocks: bool) -> None:
    assert blocks(rules(BOTH).verdict("http://h/named/x", TOKEN, policy), TOKEN) is named_blocks
    assert blocks(rules(BOTH).verdict("http://h/everyone/x", TOKEN, policy), TOKEN) is star_blocks
    unavailable = RobotsRules("http://h/robots.txt", 503, detail="the server answered HTTP 503").verdict(
        "http://h/x", TOKEN, policy
    )
    assert unavailable["verdict"] == "unavailable" and not blocks(unavailable, TOKEN)


def test_names_agent_uses_protegos_own_group_matching() -> None:
    assert names_agent(ProtegoRobotParser(BOTH, None).rp, TOKEN)
    assert not names_agent(ProtegoRobotParser(STAR_ONLY, None).rp, TOKEN)
    # A product token matches at a token boundary only (RFC 9309 §2.2.1).
    assert not names_agent(ProtegoRobotParser(b"User-agent: archive\nDisallow: /\n", None).rp, TOKEN)


@pytest.mark.parametrize(
    ("url", "robots"),
    [
        ("http://Example.org/a/b?c", "http://example.org/robots.txt"),
        ("https://user:pw@example.org:443/x", "https://example.org/robots.txt"),
        ("http://example.org:8080/x", "http://example.org:8080/robots.txt"),
        ("http://[::1]:81/x", "http://[::1]:81/robots.txt"),
    ],
)
def test_robots_url_is_per_origin(url: str, robots: str) -> None:
    assert robots_url_for(url) == robots


NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "date", "seconds"),
    [
        ("120", None, 120.0),
        (" 0 ", None, 0.0),
        ("Thu, 26 Nov 2026 12:00:30 GMT", None, 30.0),
        # Counted from the response's Date, not the crawler's clock.
        ("Thu, 26 Nov 2026 12:10:00 GMT", "Thu, 26 Nov 2026 12:09:50 GMT", 10.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", None, 0.0),  # in the past
        ("soon", None, None),
        ("-5", None, None),
        ("1.5", None, None),  # delay-seconds is 1*DIGIT
    ],
)
def test_retry_after_seconds(value: str, date: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, date, now=NOW) == seconds


def test_settings_turn_the_parts_off() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        RobotsMiddleware.from_crawler(get_crawler(CitationsSpider, {"ARCHIVE_ROBOTS": "ignore"}))
    with pytest.raises(ValueError, match="ARCHIVE_ROBOTS must be one of"):  # a typo never turns it off
        RobotsMiddleware.from_crawler(get_crawler(CitationsSpider, {"ARCHIVE_ROBOTS": "sometimes"}))
    with pytest.raises(NotConfigured):
        RetryAfterMiddleware.from_crawler(get_crawler(CitationsSpider, {"ARCHIVE_RETRY_AFTER_MAX": 0}))
    middleware = RobotsMiddleware.from_crawler(
        get_crawler(CitationsSpider, {"ARCHIVE_ROBOTS": "obey", "ROBOTSTXT_USER_AGENT": TOKEN})
    )
    assert (middleware.policy, middleware.token) == ("obey", TOKEN)
