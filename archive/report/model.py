"""The report's data: per post and citation, the rot verdict, drift, best copy and timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from archive.drift import DEFAULT_THRESHOLD, compare_texts
from archive.pagetext import main_text, read_payload, title_of
from archive.rot import DEFAULT_FAILURES, DEFAULT_MIN_DAYS, Evidence, classify, verdict

if TYPE_CHECKING:
    from archive.catalog import Attempt, Catalog
    from archive.collection import Collection

__all__ = ["Policy", "build_report"]

REPORT_SCHEMA = "citearchive-report/1"


@dataclass(frozen=True, slots=True)
class Policy:
    failures: int = DEFAULT_FAILURES
    min_days: float = DEFAULT_MIN_DAYS
    drift_threshold: float = DEFAULT_THRESHOLD


class _Texts:
    """Decoded payloads and main texts of captures, read once each."""

    def __init__(self, collection: Collection) -> None:
        self.archive_dir = collection.archive_dir
        self._cache: dict[tuple[str, int], tuple[bytes, str, str] | None] = {}

    def get(self, capture: dict[str, Any]) -> tuple[bytes, str, str] | None:
        source = capture.get("revisit_of") or capture
        if not source.get("warc_file") or source.get("offset") is None:
            return None
        key = (str(source["warc_file"]), int(source["offset"]))
        if key not in self._cache:
            payload = read_payload(self.archive_dir, capture)
            self._cache[key] = None if payload is None else (payload, title_of(payload), main_text(payload))
        return self._cache[key]


def _location(attempt: Attempt) -> dict[str, Any]:
    return {
        "run_id": attempt.run_id,
        "started": attempt.started,
        "timestamp": attempt.timestamp,
        "final_url": attempt.final_url,
        "warc_file": attempt.warc_file,
        "offset": attempt.offset,
        "length": attempt.length,
        "record_id": attempt.record_id,
        "revisit_of": attempt.revisit_of,
    }


def _capture_dict(attempt: Attempt) -> dict[str, Any]:
    return {**_location(attempt), "mime": attempt.mime}


def _probe_text(catalog: Catalog, texts: _Texts, attempt: Attempt, probes: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    if attempt.run_id not in probes:
        probes[attempt.run_id] = catalog.probes(attempt.run_id)
    url = attempt.final_url or attempt.url
    directory = url.split("?", 1)[0].rsplit("/", 1)[0] + "/"
    probe = probes[attempt.run_id].get(directory)
    if not probe or probe.get("http_status") != 200:
        return None
    read = texts.get(probe)
    return read[2] if read else None


def _citation_history(
    catalog: Catalog, texts: _Texts, url: str, policy: Policy, probes: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, Any]:
    history = catalog.history(url)
    timeline: list[dict[str, Any]] = []
    judged: list[tuple[str, Evidence]] = []
    good: list[tuple[Attempt, tuple[bytes, str, str] | None]] = []
    for attempt in history:
        read = texts.get(_capture_dict(attempt)) if attempt.good else None
        probe = _probe_text(catalog, texts, attempt, probes) if attempt.good and attempt.http_status == 200 else None
        evidence = classify(attempt, read[1] if read else "", read[2] if read else None, probe)
        judged.append((attempt.started, evidence))
        entry: dict[str, Any] = {
            **_location(attempt),
            "status": attempt.status,
            "http_status": attempt.http_status,
            "ok": evidence.ok,
            "kind": evidence.kind,
            "detail": evidence.detail,
            "revisit": attempt.revisit_of is not None,
        }
        if evidence.ok and read is not None and good and good[-1][1] is not None:
            previous = good[-1][1]
            assert previous is not None
            step = compare_texts(previous[0], read[0], previous[2], read[2], policy.drift_threshold)
            entry.update(similarity=step.similarity, change=step.change, flagged=step.flagged, identical=step.identical_payload)
        if evidence.ok:
            good.append((attempt, read))
        timeline.append(entry)
    now = verdict(judged, policy.failures, policy.min_days)
    before = verdict(judged[:-1], policy.failures, policy.min_days) if len(judged) > 1 else None
    drift = _drift(good, policy)
    drift_before = _drift(good[:-1], policy) if good and good[-1][0] is history[-1] else drift
    return {
        "state": now.state,
        "failures": now.failures,
        "failing_since": now.since,
        "evidence": now.evidence,
        "previous_state": before.state if before else None,
        "first_good": _location(good[0][0]) if good else None,
        "last_good": _location(good[-1][0]) if good else None,
        "drift": drift,
        "drifted": bool(drift and drift["flagged"]),
        "drifted_before": bool(drift_before and drift_before["flagged"]),
        "attempts": len(history),
        "timeline": timeline,
    }


def _drift(good: list[tuple[Attempt, tuple[bytes, str, str] | None]], policy: Policy) -> dict[str, Any] | None:
    """The latest good capture against the first one: does the page still say what was cited?"""
    if len(good) < 2 or good[0][1] is None or good[-1][1] is None:
        return None
    (first, old), (last, new) = good[0], good[-1]
    assert old is not None and new is not None
    result = compare_texts(old[0], new[0], old[2], new[2], policy.drift_threshold)
    return {
        "similarity": result.similarity,
        "change": result.change,
        "flagged": result.flagged,
        "identical_payload": result.identical_payload,
        "from": first.timestamp,
        "to": last.timestamp,
        "diff": result.diff,
    }


def build_report(collection: Collection, catalog: Catalog, policy: Policy | None = None) -> dict[str, Any]:
    """The whole report as plain data (what ``--format json`` prints)."""
    policy = policy or Policy()
    texts = _Texts(collection)
    probes: dict[str, dict[str, dict[str, Any]]] = {}
    per_url: dict[str, dict[str, Any]] = {}
    posts = []
    totals = {"alive": 0, "at-risk": 0, "dead": 0, "drifted": 0, "new_rot": 0, "new_drift": 0}
    for post in catalog.latest_posts():
        counts = {"alive": 0, "at-risk": 0, "dead": 0, "drifted": 0}
        citations = []
        for citation in post["citations"]:
            url = str(citation["url"])
            if url not in per_url:
                per_url[url] = _citation_history(catalog, texts, url, policy, probes)
            found = per_url[url]
            new_rot = found["state"] != "alive" and found["state"] != found["previous_state"]
            new_drift = found["drifted"] and not found["drifted_before"]
            counts[found["state"]] += 1
            counts["drifted"] += found["drifted"]
            totals["new_rot"] += new_rot
            totals["new_drift"] += new_drift
            citations.append({
                "n": citation.get("n"),
                "url": url,
                "anchor_text": citation.get("anchor_text"),
                "new_rot": new_rot,
                "new_drift": new_drift,
                **found,
            })
        for key, value in counts.items():
            totals[key] += value
        posts.append({
            "source": post["source"],
            "url": post["url"],
            "title": post["title"],
            "counts": counts,
            "citations": citations,
        })
    return {
        "schema": REPORT_SCHEMA,
        "collection": collection.name,
        "generated": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "policy": {"failures": policy.failures, "min_days": policy.min_days, "drift_threshold": policy.drift_threshold},
        "runs": catalog.runs(),
        "totals": totals,
        "posts": posts,
    }
