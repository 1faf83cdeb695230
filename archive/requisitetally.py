"""Per citation, how many of its page requisites were archived and which failed, from the journal."""

from __future__ import annotations

from typing import Any

__all__ = ["REQUISITE_KINDS", "REQUISITE_NOT_ATTEMPTED", "RequisiteTally"]

#: Journal entry kinds: the URLs a document needs, and the outcome of one of them for a citation.
REQUISITE_KINDS = ("requisites_found", "requisite")
REQUISITE_NOT_ATTEMPTED = "not attempted: the run ended before this requisite was fetched"

Entry = dict[str, Any]


class RequisiteTally:
    """Collects ``requisites_found`` and ``requisite`` journal entries, keyed by citation key.

    A requisite shared by several citations counts for each. For one citation and URL an
    archived outcome wins over others, otherwise the last one. A URL found but with no
    outcome (an interrupted run) is failed as not attempted.
    """

    def __init__(self) -> None:
        self._found: dict[str, dict[str, None]] = {}
        self._outcomes: dict[str, dict[str, Entry]] = {}

    def add(self, entry: Entry) -> None:
        parent = str(entry.get("parent"))
        if entry.get("kind") == "requisites_found":
            urls = self._found.setdefault(parent, {})
            urls.update(dict.fromkeys(str(url) for url in entry.get("urls") or []))
            return
        url = str(entry.get("url"))
        self._found.setdefault(parent, {})[url] = None
        capture = entry.get("capture") or {}
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
