"""What the spider yields: a post with its citations, and the outcome of fetching one citation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from archive.requisitetally import POST_PARENT_PREFIX

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
    # How its citations were found (crawler.citations.Extraction.to_dict); None: the post was not read.
    extraction: dict[str, Any] | None = None
    published: str | None = None  # ISO 8601, when the post declares it (crawler/published.py)
    # What the post page needs, journaled with the post (as a cited page's with its capture).
    requisites: RequisitesItem | None = None

    def to_journal(self) -> dict[str, Any]:
        entry = {
            "kind": "post",
            "post_id": self.post_id,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "snapshot": self.snapshot.to_dict() if self.snapshot else None,
            **({"published": self.published} if self.published is not None else {}),
            **({"extraction": self.extraction} if self.extraction is not None else {}),
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
    # What the page needs, journaled with the capture: one item per cited page, not two.
    requisites: RequisitesItem | None = None

    def to_journal(self) -> dict[str, Any]:
        return {"kind": "capture", "key": self.key, "url": self.url, "capture": self.outcome.to_dict()}


@dataclass(slots=True)
class RequisitesItem:
    """For one citation (key ``parent``, or a post page's ``post:ID``): requisite URLs its documents need, and outcomes known so far.

    One item per citation page, and per landed requisite per citation waiting
    for it, not one per (citation, requisite): pages of a site share a dozen
    requisites, and each item costs a trip through Scrapy's item machinery and
    a journal line (27,000 items for 2,000 pages, a fifth of the run's time).
    """

    parent: str
    found: list[str] = field(default_factory=list)
    #: The role of each URL of ``found``; journalled for a post page only, whose missing
    #: requisites a resumed run requests from the journal (a cited page's are not resumed).
    roles: list[str] = field(default_factory=list)
    outcomes: list[tuple[str, str, CaptureOutcome]] = field(default_factory=list)
    #: URLs whose outcome this item is the first to journal: with the whole capture (WARC
    #: file, offset, hops). Other items name only status and reason: a site-wide stylesheet's
    #: capture repeated for each of 2,000 pages made 11 KB journal lines (22 MB per run).
    detailed: set[str] = field(default_factory=set)

    def to_journal(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"kind": "requisites", "parent": self.parent, "found": self.found}
        if self.parent.startswith(POST_PARENT_PREFIX):
            entry["roles"] = self.roles
        entry["outcomes"] = [self._outcome(url, role, outcome) for url, role, outcome in self.outcomes]
        return entry

    def _outcome(self, url: str, role: str, outcome: CaptureOutcome) -> dict[str, Any]:
        if url in self.detailed:
            return {"url": url, "role": role, "capture": outcome.to_dict()}
        return {"url": url, "role": role, "status": outcome.status, "reason": outcome.reason}
