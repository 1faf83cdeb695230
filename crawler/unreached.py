"""Posts an interrupted run never read: journalled as not attempted, so its manifest lists them and a rerun resumes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.journal import Journal, read_journal
from crawler.items import CaptureOutcome, PostItem
from crawler.sources import SourceError, parse_source
from crawler.spiders.citations import post_id_for

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["NOT_REACHED", "journal_unreached_posts"]

NOT_REACHED = "not attempted: the run was interrupted before this post was read"


def journal_unreached_posts(journal_path: Path, sources: Iterable[str]) -> int:
    """Append a post entry (snapshot skipped, :data:`NOT_REACHED`) for each source the journal has no post of.

    Without it, a run stopped before its post was fetched had a manifest with no
    post and no citation "not attempted": it looked complete, and the same command
    started a new run instead of resuming. A source is reached when a post entry
    has its id, or names it as its ``feed``. URL lists (expanded into their posts
    before the crawl) are never entries of their own. Returns the entries added.
    Blocking: call it off the reactor thread.
    """
    reached: set[str] = set()
    if journal_path.exists():
        for entry in read_journal(journal_path):
            if entry.get("kind") == "post":
                reached.add(str(entry.get("post_id")))
                if entry.get("feed"):
                    reached.add(post_id_for(str(entry["feed"])))
    missing = []
    for raw in dict.fromkeys(sources):
        try:
            source = parse_source(raw)
        except SourceError:
            continue  # logged by the spider, never a post
        if source.kind != "urllist" and post_id_for(raw) not in reached:
            url = source.location if source.kind == "url" else None
            outcome = CaptureOutcome("skipped", final_url=url, reason=NOT_REACHED)
            missing.append(PostItem(post_id_for(raw), raw, url, None, outcome, []).to_journal())
    if missing:
        journal = Journal(journal_path)
        try:
            for entry in missing:
                journal.append(entry)
        finally:
            journal.close()
    return len(missing)
