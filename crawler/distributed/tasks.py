"""The JSON tasks enqueued for workers and the registration of each post (pure, no I/O)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crawler.items import PostItem

if TYPE_CHECKING:
    from crawler.citations import PostDocument

Task = dict[str, Any]


def post_task(source: str, url: str, *, force: bool = False) -> Task:
    """Fetch a post page, archive it and extract its citations."""
    return {"kind": "post", "source": source, "url": url, "force": force}


def citation_task(key: str, url: str, *, force: bool = False) -> Task:
    """Fetch one cited URL; ``force`` bypasses the shared duplicate filter (re-enqueued work)."""
    return {"kind": "citation", "key": key, "url": url, "force": force}


def encode(task: Task) -> str:
    return json.dumps(task, ensure_ascii=False, separators=(",", ":"))


def decode(data: bytes | str) -> Task:
    """Parse a task; raise ValueError when it is not one."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    task = json.loads(text)
    if not isinstance(task, dict) or task.get("kind") not in ("post", "citation"):
        raise ValueError("not a citearchive task")
    if not isinstance(task.get("url"), str):
        raise ValueError("the task has no url")
    if task["kind"] == "post" and not isinstance(task.get("source"), str):
        raise ValueError("the post task has no source")
    if task["kind"] == "citation" and not isinstance(task.get("key"), str):
        raise ValueError("the citation task has no key")
    return task


def local_post_entry(post_id: str, source: str, document: PostDocument) -> dict[str, Any]:
    """The journal entry of a local post: what the single-process spider yields for it."""
    citations = [c.journal_entry() for c in document.citations]
    extraction = document.extraction.to_dict() if document.extraction is not None else None
    return PostItem(post_id, source, document.url, document.title, None, citations, extraction=extraction).to_journal()


def registration(seq: int, source: str, *, url: str | None = None, entry: dict[str, Any] | None = None) -> str:
    """A post as ``enqueue`` registers it: a URL the workers fetch, or a local post's entry."""
    return encode({"seq": seq, "source": source, "url": url, "entry": entry, "kind": "post"})


def citation_tasks(document: PostDocument) -> list[Task]:
    """One task per distinct citation key of ``document``, in order; none for a malformed URL (skipped in the post's entry)."""
    seen: set[str] = set()
    tasks = []
    for citation in document.citations:
        if citation.skip_reason is None and citation.key not in seen:
            seen.add(citation.key)
            tasks.append(citation_task(citation.key, citation.url))
    return tasks
