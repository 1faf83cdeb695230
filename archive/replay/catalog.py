"""What replay lists: collections, posts and citations, read from the manifests of each collection."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.replay.confine import inside

logger = logging.getLogger(__name__)

__all__ = ["Catalog", "CollectionEntry", "PostEntry", "valid_collection_name"]

# Collection names come from directory names; anything else in a URL is refused, never joined to a path.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def valid_collection_name(name: str) -> bool:
    return bool(_NAME.match(name)) and ".." not in name


@dataclass(frozen=True)
class PostEntry:
    """One post of one run, as the manifest describes it."""

    key: str
    run_id: str
    finished: str
    post: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.post.get("title") or self.post.get("url") or self.post.get("source") or "untitled")

    @property
    def citations(self) -> list[dict[str, Any]]:
        return list(self.post.get("citations") or [])

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for citation in self.citations:
            status = str((citation.get("capture") or {}).get("status") or "unknown")
            counts[status] = counts.get(status, 0) + 1
        return counts


@dataclass(frozen=True)
class CollectionEntry:
    name: str
    root: Path
    posts: list[PostEntry] = field(default_factory=list)

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    def post(self, key: str) -> PostEntry | None:
        return next((post for post in self.posts if post.key == key), None)


def post_key(post: dict[str, Any]) -> str:
    """The manifest's ``post_id``, or a stable digest of the post's source when it has none."""
    post_id = post.get("post_id")
    if isinstance(post_id, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", post_id):
        return post_id
    source = str(post.get("url") or post.get("source") or "")
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


class Catalog:
    """The collections under ``OUT/collections``; manifests are re-read when they change."""

    def __init__(self, collections_root: Path) -> None:
        self.root = collections_root.resolve()
        self._cache: dict[Path, tuple[float, dict[str, Any] | None]] = {}

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.name for path in self.root.iterdir() if path.is_dir() and valid_collection_name(path.name)
        )

    def collections(self) -> list[CollectionEntry]:
        entries = (self.collection(name) for name in self.names())
        return [entry for entry in entries if entry is not None]

    def collection(self, name: str) -> CollectionEntry | None:
        """The named collection, or None; ``name`` is matched against directory names, not joined."""
        if not valid_collection_name(name) or name not in self.names():
            return None
        root = self.root / name
        latest: dict[str, PostEntry] = {}
        for manifest in self._manifests(root / "manifests"):
            run_id = str(manifest.get("run_id") or "")
            finished = str(manifest.get("finished") or manifest.get("started") or "")
            for post in manifest.get("posts") or []:
                if isinstance(post, dict):
                    entry = PostEntry(post_key(post), run_id, finished, post)
                    # Later runs replace earlier ones: manifests are read oldest first.
                    latest[entry.key] = entry
        posts = sorted(latest.values(), key=lambda entry: (entry.finished, entry.title), reverse=True)
        return CollectionEntry(name, root, posts)

    def _manifests(self, directory: Path) -> list[dict[str, Any]]:
        if not directory.is_dir():
            return []
        manifests = []
        for path in sorted(directory.glob("*.json")):
            if not inside(str(path), str(directory)):
                # A symlink to a file elsewhere (e.g. copied in from a worker with rsync -a) is not read.
                logger.warning("Skipping %(path)s: it resolves outside %(dir)s", {"path": path, "dir": directory})
                continue
            manifest = self._load(path)
            if manifest is not None:
                manifests.append(manifest)
        return sorted(manifests, key=lambda m: str(m.get("finished") or m.get("started") or ""))

    def _load(self, path: Path) -> dict[str, Any] | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            logger.warning("Skipping unreadable manifest %(path)s: %(error)s", {"path": path, "error": exc})
            data = None
        manifest = data if isinstance(data, dict) and isinstance(data.get("posts"), list) else None
        self._cache[path] = (mtime, manifest)
        return manifest
