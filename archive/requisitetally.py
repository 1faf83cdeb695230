"""Per citation, how many of its page requisites were archived and which failed, from the journal."""

from __future__ import annotations

from typing import Any

__all__ = ["REQUISITE_KINDS", "REQUISITE_NOT_ATTEMPTED", "RequisiteTally"]

#: Journal entry kinds: ``requisites`` (URLs a citation's documents need, and outcomes), written since
#: 2026-11-26; ``requisites_found`` (URLs) and ``requisite`` (one outcome) in older journals, still read.
REQUISITE_KINDS = ("requisites", "requisites_found", "requisite")
REQUISITE_NOT_ATTEMPTED = "not attempted: the run ended before this requisite was fetched"

Entry = dict[str, Any]


class RequisiteTally:
    """Collects the journal's requisite entries (:data:`REQUISITE_KINDS`), keyed by citation key.

    A requisite shared by several citations counts for each. For one citation and URL an
    archived outcome wins over others, otherwise the last one. A URL found but with no
    outcome (an interrupted run) is failed as not attempted.
    """

    def __init__(self) -> None:
        self._found: dict[str, dict[str, None]] = {}
        self._outcomes: dict[str, dict[str, Entry]] = {}

    def add(self, entry: Entry) -> None:
        parent = str(entry.get("parent"))
        kind = entry.get("kind")
        if kind == "requisites":
            self._add_found(parent, entry.get("found") or [])
            for outcome in entry.get("outcomes") or []:
                self._add_outcome(parent, str(outcome.get("url")), outcome.get("capture") or {})
        elif kind == "requisites_found":
            self._add_found(parent, entry.get("urls") or [])
        else:
            self._add_outcome(parent, str(entry.get("url")), entry.get("capture") or {})

    def _add_found(self, parent: str, urls: list[Any]) -> None:
        self._found.setdefault(parent, {}).update(dict.fromkeys(str(url) for url in urls))

    def _add_outcome(self, parent: str, url: str, capture: Entry) -> None:
        self._found.setdefault(parent, {})[url] = None
        outcomes = self._outcomes.setdefault(parent, {})
        previous = outcomes.get(url)
        if previous is None or previous.get("status") != "archived" or capture.get("status") == "archived":
            outcomes[url] = capture

    def summary(self, key: str) -> Entry | None:
        """``{"archived": N, "failed": [{"url", "reason"}]}`` for citation ``key``; None if none found."""
        found = self._found.get(key)
        if found is None:
            return None
        outcomes = self._outcomes.get(key, {})
        archived = 0
        failed: list[Entry] = []
        for url in found:
            capture = outcomes.get(url)
            if capture is not None and capture.get("status") == "archived":
                archived += 1
                continue
            reason = REQUISITE_NOT_ATTEMPTED if capture is None else capture.get("reason") or capture.get("status")
            failed.append({"url": url, "reason": str(reason)})
        return {"archived": archived, "failed": failed}
