"""Compare the enqueued posts with the workers' journals: what is done, what must be re-enqueued (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.distributed.tasks import Task, citation_task, post_task

if TYPE_CHECKING:
    from collections.abc import Iterable

Entry = dict[str, Any]


@dataclass(slots=True)
class Reconciled:
    """The manifest's post entries (in enqueue order), and the work no journal accounts for.

    The manifest is compiled from ``posts`` followed by the journals' other entries, in
    order: those are read again from the journals rather than held here.
    """

    posts: list[Entry] = field(default_factory=list)
    missing: list[Task] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def parse_registrations(raw: dict[str, str]) -> list[tuple[str, Entry]]:
    """``(post_id, registration)`` in enqueue order, from the run's posts hash."""
    posts = [(post_id, json.loads(value)) for post_id, value in raw.items()]
    return sorted(posts, key=lambda item: int(item[1].get("seq", 0)))


def reconcile(registrations: list[tuple[str, Entry]], journal_entries: Iterable[Entry]) -> Reconciled:
    """Every registered post needs a post entry, and every citation key of a post a capture.

    Local posts carry their entry in the registration; URL posts get theirs
    from the worker that fetched the page. A URL post with no entry is
    re-enqueued, and so is each citation whose key no capture names: that
    work was lost with a worker that died (its request had left the shared
    queue and its fingerprint stays in the duplicate filter, so the tasks are
    forced past it).
    """
    journaled_posts: dict[str, Entry] = {}
    captured: set[str] = set()
    for entry in journal_entries:
        kind = entry.get("kind")
        if kind == "post":
            journaled_posts[str(entry.get("post_id"))] = entry
        elif kind == "capture":
            captured.add(str(entry.get("key")))
    result = Reconciled()
    wanted: dict[str, str] = {}
    for post_id, registration in registrations:
        post: Entry | None = registration.get("entry") or journaled_posts.get(post_id)
        if post is None:
            result.missing.append(post_task(registration["source"], registration["url"], force=True))
            continue
        result.posts.append(post)
        for citation in post.get("citations") or []:
            if "capture" in citation:  # skipped when the post was read: nothing to fetch
                continue
            wanted.setdefault(str(citation.get("key")), str(citation.get("url")))
    result.missing.extend(citation_task(key, url, force=True) for key, url in wanted.items() if key not in captured)
    return result
