"""Link rot: classify each capture attempt, then call a URL alive, at risk or dead from its history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archive.drift import similarity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from archive.catalog import Attempt

__all__ = [
    "DEFAULT_FAILURES",
    "DEFAULT_MIN_DAYS",
    "Evidence",
    "Verdict",
    "classify",
    "looks_not_found",
    "looks_parked",
    "verdict",
]

DEFAULT_FAILURES = 3  # N consecutive failed attempts ...
DEFAULT_MIN_DAYS = 3.0  # ... spanning at least D days make a citation dead
SOFT404_PROBE_SIMILARITY = 0.9

#: Phrases of "not found" pages (English, Swedish, German, French, Spanish, Dutch, ...),
#: matched in the title and headings or in a short main text.
NOT_FOUND_PHRASES = (
    r"page not found", r"not found", r"could not be found", r"can(?:'|no)t be found",
    r"page (?:you (?:are|were) looking for|you requested) (?:does not|doesn't) exist", r"no longer available",
    r"sidan (?:hittades|kunde) inte", r"hittades inte", r"kunde inte hittas", r"sidan finns inte",
    r"seite (?:wurde )?nicht gefunden", r"nicht gefunden", r"seite existiert nicht",
    r"page (?:introuvable|non trouvée)", r"página no encontrada", r"pagina niet gevonden",
    r"siden blev ikke fundet", r"siden finnes ikke", r"sivua ei löytynyt", r"\b404\b",
)
PARKED_PHRASES = (
    r"this domain (?:is|may be) for sale", r"buy this domain", r"domain (?:is )?parked",
    r"parked (?:free|domain)", r"domain for sale", r"diese domain (?:steht zum verkauf|kaufen)",
    r"den här domänen är till salu",
)
_NOT_FOUND = re.compile("|".join(NOT_FOUND_PHRASES), re.IGNORECASE)
_PARKED = re.compile("|".join(PARKED_PHRASES), re.IGNORECASE)


def looks_not_found(title: str, text: str) -> str | None:
    """The not-found phrase of a page's title or (short) main text, if any."""
    found = _NOT_FOUND.search(title) or (_NOT_FOUND.search(text) if len(text) < 1500 else None)
    return found.group(0) if found else None


def looks_parked(title: str, text: str) -> str | None:
    found = _PARKED.search(title) or _PARKED.search(text)
    return found.group(0) if found else None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one attempt says about a link: ``ok`` or a failure ``kind``, with the detail."""

    ok: bool
    kind: str  # ok, gone, server-error, dns, refused, timeout, error, soft-404, home-redirect, parked, malformed,
    # not-attempted
    detail: str
    counts: bool = True  # False for blocked/skipped attempts: no evidence either way


def _home_redirect(url: str, final_url: str | None) -> bool:
    if not final_url or final_url == url:
        return False
    start, end = urlsplit(url), urlsplit(final_url)
    return end.path in ("", "/") and not end.query and start.path not in ("", "/")


def classify(
    attempt: Attempt, title: str = "", text: str | None = None, probe_text: str | None = None
) -> Evidence:
    """The evidence of one attempt; ``title``/``text`` are the page's, ``probe_text`` a random sibling's (200 only)."""
    if attempt.status == "skipped" and (attempt.reason or "").startswith("malformed URL"):
        # No request can be made for it (a bad host or port): a link no reader can follow either.
        return Evidence(False, "malformed", attempt.reason or "malformed URL")
    if attempt.status in ("blocked", "skipped"):
        return Evidence(False, "not-attempted", attempt.reason or attempt.status, counts=False)
    if attempt.status != "archived":
        reason = attempt.reason or "failed"
        status = attempt.http_status
        if status in (404, 410):
            return Evidence(False, "gone", f"HTTP {status}")
        if status is not None and status >= 500:
            return Evidence(False, "server-error", f"HTTP {status}")
        if status is not None:
            return Evidence(False, "error", f"HTTP {status}")
        for prefix, kind in (("DNS lookup failed", "dns"), ("connection refused", "refused"), ("timed out", "timeout")):
            if reason.startswith(prefix):
                return Evidence(False, kind, reason)
        return Evidence(False, "error", reason)
    if _home_redirect(attempt.url, attempt.final_url):
        return Evidence(False, "home-redirect", f"redirected to the home page {attempt.final_url}")
    if text is not None:
        if phrase := looks_parked(title, text):
            return Evidence(False, "parked", f"parked domain page: {phrase!r}")
        if phrase := looks_not_found(title, text):
            return Evidence(False, "soft-404", f"HTTP 200 with a not-found page: {phrase!r}")
        if probe_text is not None and similarity(text, probe_text) >= SOFT404_PROBE_SIMILARITY:
            return Evidence(False, "soft-404", "HTTP 200, and a made-up path on the site answers with the same page")
    return Evidence(True, "ok", f"HTTP {attempt.http_status}")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class Verdict:
    """alive, at-risk or dead; with the failing streak that led there."""

    state: str
    failures: int  # consecutive failed attempts at the end of the history
    since: str | None  # when the streak began
    evidence: list[str] = field(default_factory=list)


def verdict(
    history: Sequence[tuple[str, Evidence]],
    failures: int = DEFAULT_FAILURES,
    min_days: float = DEFAULT_MIN_DAYS,
) -> Verdict:
    """From (attempt time, evidence) pairs, oldest first.

    Dead needs ``failures`` consecutive failures whose first and last attempts
    lie at least ``min_days`` apart: one bad day of a flaky server is "at
    risk", never "dead". Attempts that were not made (blocked, skipped) are
    no evidence and are passed over.
    """
    streak: list[tuple[str, Evidence]] = []
    for when, evidence in history:
        if not evidence.counts:
            continue
        streak = [] if evidence.ok else [*streak, (when, evidence)]
    if not streak:
        return Verdict("alive", 0, None)
    details = [f"{when}: {evidence.detail}" for when, evidence in streak]
    span = parse_time(streak[-1][0]) - parse_time(streak[0][0])
    dead = len(streak) >= failures and span >= timedelta(days=min_days)
    return Verdict("dead" if dead else "at-risk", len(streak), streak[0][0], details)
