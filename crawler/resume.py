"""Resuming an interrupted run: its record, how to find it again, and what it already archived."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from archive.atomic import atomic_write_text
from archive.manifest import read_journal
from archive.requisitetally import POST_PARENT_PREFIX

if TYPE_CHECKING:
    from archive.collection import Collection

logger = logging.getLogger(__name__)

RUN_SUFFIX = ".run"  # JSON; not ".json", which readers of manifests/ take for manifests


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What a run was asked to do, written before it starts (``manifests/RUN_ID.run``, JSON)."""

    run_id: str
    sources: list[str]
    started: str

    @classmethod
    def new(cls, run_id: str, sources: list[str]) -> RunRecord:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return cls(run_id, list(sources), now)

    def save(self, collection: Collection) -> None:
        collection.create()
        data = {"run_id": self.run_id, "sources": self.sources, "started": self.started}
        atomic_write_text(collection.manifests_dir / f"{self.run_id}{RUN_SUFFIX}", json.dumps(data, indent=2))


def _read_record(path: Any) -> RunRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunRecord(str(data["run_id"]), [str(s) for s in data["sources"]], str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _not_attempted(part: dict[str, Any] | None) -> bool:
    return str((part or {}).get("reason") or "").startswith("not attempted")


def run_is_complete(collection: Collection, run_id: str) -> bool:
    """A run is complete once its manifest exists and nothing in it was left unattempted.

    That is no citation's capture, no post (an interrupted run lists the posts it never
    read, crawler/unreached.py), no requisite of a post page and no render (browser mode)
    "not attempted". (A cited page's requisites are not resumed: a run missing only those is complete.)
    """
    try:
        manifest = json.loads(collection.manifest_path(run_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    for post in manifest.get("posts", []):
        if _not_attempted(post.get("snapshot")):
            return False
        if any(_not_attempted(failed) for failed in (post.get("requisites") or {}).get("failed", [])):
            return False
        for citation in post.get("citations", []):
            if _not_attempted(citation.get("capture")) or _not_attempted(citation.get("render")):
                return False
    return True


def find_resumable_run(collection: Collection, sources: list[str]) -> RunRecord | None:
    """The newest run over exactly these sources, if it never finished."""
    if not collection.manifests_dir.is_dir():
        return None
    for path in sorted(collection.manifests_dir.glob(f"*{RUN_SUFFIX}"), reverse=True):
        record = _read_record(path)
        if record is None or record.sources != list(sources):
            continue
        return None if run_is_complete(collection, record.run_id) else record
    return None


@dataclass(slots=True)
class ResumeState:
    """What an interrupted run's journal says is done."""

    done_keys: set[str] = field(default_factory=set)
    # post_id → the journalled post entry, for posts whose page was archived
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # post parent key → (URL, role) of each requisite its page needs that has no outcome yet
    missing_requisites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _note_requisites(entry: dict[str, Any], found: dict[str, dict[str, str]], settled: set[str]) -> None:
    """Note a ``requisites`` journal line: the outcomes it names, and for a post page what it found (with roles)."""
    for outcome in entry.get("outcomes") or []:
        if isinstance(outcome, dict) and isinstance(outcome.get("url"), str):
            settled.add(outcome["url"])
    parent, urls, roles = entry.get("parent"), entry.get("found") or [], entry.get("roles") or []
    if isinstance(parent, str) and parent.startswith(POST_PARENT_PREFIX) and len(urls) == len(roles):
        page = found.setdefault(parent, {})
        for url, role in zip(urls, roles, strict=True):
            page.setdefault(str(url), str(role))


def load_resume_state(collection: Collection, run_id: str) -> ResumeState:
    """Read the run's journal (blocking: call it off the reactor thread)."""
    state = ResumeState()
    path = collection.journal_path(run_id)
    if not path.exists():
        return state
    found: dict[str, dict[str, str]] = {}  # post parent key → URL → role
    settled: set[str] = set()  # requisite URLs with an outcome, for any parent (fetched once per run)
    for entry in read_journal(path):
        if entry.get("kind") == "capture" and entry.get("capture", {}).get("status"):
            state.done_keys.add(entry["key"])
        elif entry.get("kind") == "post" and (entry.get("snapshot") or {}).get("status") == "archived":
            state.posts[entry["post_id"]] = entry
        elif entry.get("kind") == "requisites":
            _note_requisites(entry, found, settled)
    for parent, roles in found.items():
        missing = [(url, role) for url, role in roles.items() if url not in settled]
        if missing:
            state.missing_requisites[parent] = missing
    logger.info(
        "Resuming run %(run)s: %(n)d URLs and %(p)d posts already done",
        {"run": run_id, "n": len(state.done_keys), "p": len(state.posts)},
    )
    return state
