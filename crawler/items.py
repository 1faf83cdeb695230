"""What the spider yields: a post with its citations, and the outcome of fetching one citation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["archived", "failed", "blocked", "skipped"]


@dataclass(slots=True)
class CaptureOutcome:
    """One terminal outcome of a fetch, in the manifest's vocabulary."""

    status: Status
    http_status: int | None = None
    final_url: str | None = None
    reason: str | None = None
    mime: str | None = None
    # The recorded exchanges (every redirect hop and retry), last one final.
    hops: list[dict[str, Any]] = field(default_factory=list)
    # What robots.txt said about the URL (crawler.middlewares.robots); None: not checked.
    robots: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The manifest's capture object; the location is the last recorded exchange's."""
        last = self.hops[-1] if self.hops and self.http_status is not None else {}
        revisit = {"revisit_of": last["revisit_of"]} if last.get("revisit_of") else {}
        robots = {"robots": self.robots} if self.robots is not None else {}
        return {
            "status": self.status,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "timestamp": last.get("timestamp"),
            "warc_file": last.get("warc_file"),
            "offset": last.get("offset"),
            "length": last.get("length"),
            "record_id": last.get("record_id"),
            "payload_digest": last.get("payload_digest"),
            "mime": self.mime,
            "reason": self.reason,
            "hops": self.hops,
            **revisit,
            **robots,
        }


@dataclass(slots=True)
class PostItem:
    post_id: str
    source: str
    url: str | None
    title: str | None
    snapshot: CaptureOutcome | None
    citations: list[dict[str, Any]]
    feed: str | None = None  # the feed this post is an entry of

    def to_journal(self) -> dict[str, Any]:
        entry = {
            "kind": "post",
            "post_id": self.post_id,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "snapshot": self.snapshot.to_dict() if self.snapshot else None,
            "citations": self.citations,
        }
        if self.feed is not None:
            entry["feed"] = self.feed
        return entry


@dataclass(slots=True)
class CaptureItem:
    key: str
    url: str
    outcome: CaptureOutcome

    def to_journal(self) -> dict[str, Any]:
        return {"kind": "capture", "key": self.key, "url": self.url, "capture": self.outcome.to_dict()}


@dataclass(slots=True)
class RequisitesFoundItem:
    """The requisites a document (the citation's page, or a stylesheet or frame it uses) needs."""

    parent: str
    urls: list[str]

    def to_journal(self) -> dict[str, Any]:
        return {"kind": "requisites_found", "parent": self.parent, "urls": self.urls}


@dataclass(slots=True)
class RequisiteItem:
    """The outcome of one requisite for the citation (key ``parent``) whose page needs it."""

    parent: str
    url: str
    role: str
    outcome: CaptureOutcome

    def to_journal(self) -> dict[str, Any]:
        return {
            "kind": "requisite",
            "parent": self.parent,
            "url": self.url,
            "role": self.role,
            "capture": self.outcome.to_dict(),
        }
