"""Per citation, how many of its page requisites were archived and which failed, from the journal."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["POST_PARENT_PREFIX", "REQUISITE_KINDS", "REQUISITE_NOT_ATTEMPTED", "RequisiteTally", "post_parent"]

#: Journal entry kinds: ``requisites`` (URLs a citation's documents need, and outcomes), written since
#: 2026-11-26; ``requisites_found`` (URLs) and ``requisite`` (one outcome) in older journals, still read.
REQUISITE_KINDS = ("requisites", "requisites_found", "requisite")
REQUISITE_NOT_ATTEMPTED = "not attempted: the run ended before this requisite was fetched"
#: What the parent key of a post page's own requisites starts with; no citation key does
#: (those are http(s) URLs, or start with ``malformed:``).
POST_PARENT_PREFIX = "post:"


def post_parent(post_id: str) -> str:
    """The parent key under which the journal lists the requisites of post ``post_id``'s page."""
    return POST_PARENT_PREFIX + post_id

Entry = dict[str, Any]


#: A citation's requisite URL -> True (archived), a failure's reason, or None (no outcome yet).
Outcome = Literal[True] | str | None


class RequisiteTally:
    """Collects the journal's requisite entries (:data:`REQUISITE_KINDS`), keyed by parent.

    A parent is a citation key, or :func:`post_parent` for a post page. A requisite shared
    by several parents counts for each. For one parent and URL an archived outcome wins over
    others, otherwise the last one. A URL found with no outcome of its own takes the one
    journalled for another parent (a URL is fetched once per run: a distributed worker that
    fetched it may credit only the parent it was requested for); with none anywhere (an
    interrupted run) it is failed as not attempted.

    Only what the manifest reports is kept (archived, or the reason), with each URL and
    reason string held once: 2,000 pages sharing a dozen requisites are 24,000 outcomes.
    """

    def __init__(self) -> None:
        self._outcomes: dict[str, dict[str, Outcome]] = {}
        self._strings: dict[str, str] = {}
        self._by_url: dict[str, Outcome] = {}  # every URL's outcome, whichever parent it was journalled for

    def _shared(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def add(self, entry: Entry) -> None:
        parent = str(entry.get("parent"))
        kind = entry.get("kind")
        if kind == "requisites":
            self._add_found(parent, entry.get("found") or [])
            for outcome in entry.get("outcomes") or []:
                # The first line naming a URL's outcome holds its whole capture, later ones its status.
                self._add_outcome(parent, str(outcome.get("url")), outcome.get("capture") or outcome)
        elif kind == "requisites_found":
            self._add_found(parent, entry.get("urls") or [])
        else:
            self._add_outcome(parent, str(entry.get("url")), entry.get("capture") or {})

    def _add_found(self, parent: str, urls: list[Any]) -> None:
        outcomes = self._outcomes.setdefault(parent, {})
        for url in urls:
            outcomes.setdefault(self._shared(str(url)), None)

    def _add_outcome(self, parent: str, url: str, capture: Entry) -> None:
        outcomes = self._outcomes.setdefault(parent, {})
        url = self._shared(url)
        if capture.get("status") == "archived":
            outcomes[url] = self._by_url[url] = True
        elif outcomes.get(url) is not True:
            outcomes[url] = self._shared(str(capture.get("reason") or capture.get("status")))
            if self._by_url.get(url) is not True:
                self._by_url[url] = outcomes[url]

    def summary(self, key: str) -> Entry | None:
        """``{"archived": N, "failed": [{"url", "reason"}]}`` for parent ``key``; None if none found."""
        outcomes = self._outcomes.get(key)
        if outcomes is None:
            return None
        archived = 0
        failed: list[Entry] = []
        for url, own in outcomes.items():
            outcome = own if own is not None else self._by_url.get(url)
            if outcome is True:
                archived += 1
            else:
                failed.append({"url": url, "reason": REQUISITE_NOT_ATTEMPTED if outcome is None else outcome})
        return {"archived": archived, "failed": failed}
