"""Link-rot evidence per attempt and the alive / at-risk / dead verdict over time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from archive.catalog import Attempt
from archive.rot import Evidence, classify, verdict

BASE = Attempt(
    run_id="r", started="2026-01-01T00:00:00Z", url="https://news.example/2024/story.html", status="archived",
    http_status=200, final_url="https://news.example/2024/story.html", timestamp=None, warc_file=None,
    offset=None, length=None, record_id=None, payload_digest=None, mime="text/html", reason=None,
    revisit_of=None, hops=[],
)  # fmt: skip


def attempt(**changes: object) -> Attempt:
    return replace(BASE, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "ok"),
        ({"status": "failed", "http_status": 404, "reason": "the server answered HTTP 404"}, "gone"),
        ({"status": "failed", "http_status": 410, "reason": "the server answered HTTP 410"}, "gone"),
        ({"status": "failed", "http_status": 503, "reason": "the server answered HTTP 503"}, "server-error"),
        ({"status": "failed", "http_status": None, "reason": "DNS lookup failed: no such host"}, "dns"),
        ({"status": "failed", "http_status": None, "reason": "connection refused"}, "refused"),
        ({"status": "failed", "http_status": None, "reason": "timed out: took longer than 30 s"}, "timeout"),
        ({"final_url": "https://news.example/"}, "home-redirect"),
        ({"status": "blocked", "http_status": None, "reason": "loopback"}, "not-attempted"),
        ({"status": "skipped", "http_status": None, "reason": "not attempted: the run ended"}, "not-attempted"),
        ({"status": "skipped", "http_status": None, "reason": "malformed URL: '%zz' is not a valid host name"}, "malformed"),
    ],
)
def test_each_attempt_is_classified(changes: dict[str, object], kind: str) -> None:
    assert classify(attempt(**changes), text="A long article text that is there.").kind == kind


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Sidan kunde inte hittas", "Tyvärr"),
        ("Seite nicht gefunden", "Leider"),
        ("Oops", "Page not found. Try the search."),
    ],
)
def test_soft_404_phrases_in_several_languages(title: str, text: str) -> None:
    assert classify(attempt(), title=title, text=text).kind == "soft-404"


def test_a_page_equal_to_a_made_up_path_is_a_soft_404() -> None:
    page = "Welcome to our site. Here are our latest offers and the newest products of the season."
    assert classify(attempt(), text=page, probe_text=page).kind == "soft-404"
    assert classify(attempt(), text=page, probe_text="Completely different text on another page.").kind == "ok"


def test_parked_domains_are_recognised() -> None:
    assert classify(attempt(), title="example.com", text="This domain is for sale!").kind == "parked"


OK = Evidence(True, "ok", "HTTP 200")
GONE = Evidence(False, "gone", "HTTP 404")
SKIPPED = Evidence(False, "not-attempted", "blocked", counts=False)


def test_dead_needs_enough_failures_over_enough_days() -> None:
    days = [f"2026-01-0{d}T00:00:00Z" for d in range(1, 8)]
    assert verdict([(days[0], OK)]).state == "alive"
    assert verdict([(days[0], OK), (days[1], GONE)]).state == "at-risk"
    # Three failures within two days: a flaky server, not a dead link.
    assert verdict([(days[0], GONE), (days[1], GONE), (days[2], GONE)]).state == "at-risk"
    dead = verdict([(days[0], GONE), (days[2], GONE), (days[3], GONE)])
    assert (dead.state, dead.failures, dead.since) == ("dead", 3, days[0])
    # A success ends the streak; attempts not made are no evidence either way.
    assert verdict([(days[0], GONE), (days[2], GONE), (days[3], OK), (days[4], GONE)]).state == "at-risk"
    assert verdict([(days[0], GONE), (days[2], SKIPPED), (days[3], GONE), (days[4], GONE)]).state == "dead"
    assert verdict([(days[0], GONE), (days[1], GONE)], failures=2, min_days=1).state == "dead"
