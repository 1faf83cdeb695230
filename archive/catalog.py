"""The collection's history: every capture attempt per URL across runs, in SQLite, rebuilt from the manifests."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.atomic import fsync_dir
from archive.exceptions import CatalogError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from archive.collection import Collection

__all__ = ["CATALOG_NAME", "Attempt", "Catalog", "manifests_fingerprint", "read_manifests"]

CATALOG_NAME = "catalog.sqlite"
_VERSION = "1"
_LOCATION = ("status", "http_status", "final_url", "timestamp", "warc_file", "offset", "length",
             "record_id", "payload_digest", "mime", "reason")

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, manifest TEXT NOT NULL);
CREATE TABLE posts (run_id TEXT NOT NULL, post_id TEXT, source TEXT NOT NULL, url TEXT, title TEXT,
                    snapshot TEXT, citations TEXT NOT NULL);
CREATE TABLE attempts (run_id TEXT NOT NULL, started TEXT NOT NULL, url TEXT NOT NULL,
                       {", ".join(f"{name} {'INTEGER' if name in ('http_status', 'offset', 'length') else 'TEXT'}"
                                  for name in _LOCATION)},
                       revisit_of TEXT, hops TEXT);
CREATE TABLE probes (run_id TEXT NOT NULL, directory TEXT NOT NULL, url TEXT NOT NULL, capture TEXT NOT NULL);
CREATE INDEX attempts_url ON attempts (url, started);
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One capture attempt of a URL in one run; location fields as in the manifest."""

    run_id: str
    started: str  # the run's start, ISO 8601 UTC: the attempt's time for rot and drift
    url: str
    status: str
    http_status: int | None
    final_url: str | None
    timestamp: str | None
    warc_file: str | None
    offset: int | None
    length: int | None
    record_id: str | None
    payload_digest: str | None
    mime: str | None
    reason: str | None
    revisit_of: dict[str, Any] | None
    hops: list[dict[str, Any]]

    @property
    def good(self) -> bool:
        return self.status == "archived"


def read_manifests(collection: Collection) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, manifest) of every readable manifest of the collection, oldest run first."""
    for path in sorted(collection.manifests_dir.glob("*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a manifest being written is never torn (atomic); an unreadable one is skipped
        if isinstance(manifest, dict) and manifest.get("run_id") and manifest.get("started"):
            yield path.name, manifest


def manifests_fingerprint(collection: Collection) -> str:
    """Changes whenever a manifest is added, removed or rewritten."""
    digest = hashlib.sha1(_VERSION.encode())
    for path in sorted(collection.manifests_dir.glob("*.json")):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _attempt_row(run_id: str, started: str, url: str, capture: dict[str, Any]) -> tuple[Any, ...]:
    revisit = capture.get("revisit_of")
    return (
        run_id, started, url, *(capture.get(name) for name in _LOCATION),
        json.dumps(revisit) if revisit else None, json.dumps(capture.get("hops") or []),
    )


def _fill(db: sqlite3.Connection, collection: Collection, fingerprint: str) -> None:
    db.executescript(_SCHEMA)
    for name, manifest in read_manifests(collection):
        run_id, started = str(manifest["run_id"]), str(manifest["started"])
        db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?)", (run_id, started, manifest.get("finished"), name))
        seen: set[str] = set()
        for post in manifest.get("posts") or []:
            citations = post.get("citations") or []
            db.execute(
                "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, post.get("post_id"), post.get("source"), post.get("url"), post.get("title"),
                 json.dumps(post.get("snapshot")), json.dumps(citations)),
            )
            for citation in citations:
                url = str(citation.get("url"))
                if url not in seen:  # one fetch per URL per run
                    seen.add(url)
                    db.execute(f"INSERT INTO attempts VALUES ({', '.join('?' * 16)})",
                               _attempt_row(run_id, started, url, citation.get("capture") or {}))
        for probe in manifest.get("probes") or []:
            db.execute("INSERT INTO probes VALUES (?, ?, ?, ?)",
                       (run_id, probe.get("directory"), probe.get("url"), json.dumps(probe.get("capture") or {})))
    db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))


class Catalog:
    """Read access to ``NAME/catalog.sqlite``; :meth:`open` rebuilds it first when stale.

    The manifests stay the source of truth: the catalog is derived, and is
    rebuilt whole (into a temporary file, then renamed over the old one) when
    it is missing, unreadable or older than the set of manifests, so readers
    always see a complete catalog.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            self._db.row_factory = sqlite3.Row
        except sqlite3.Error as exc:
            raise CatalogError(f"Cannot open the catalog {path}: {exc}") from exc

    @classmethod
    def open(cls, collection: Collection) -> Catalog:
        path = collection.root / CATALOG_NAME
        fingerprint = manifests_fingerprint(collection)
        if _stored_fingerprint(path) != fingerprint:
            rebuild(collection, path, fingerprint)
        return cls(path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runs(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._db.execute("SELECT * FROM runs ORDER BY started, run_id")]

    def history(self, url: str) -> list[Attempt]:
        """Every attempt at ``url``, oldest first."""
        rows = self._db.execute("SELECT * FROM attempts WHERE url = ? ORDER BY started, run_id", (url,))
        return [_attempt(row) for row in rows]

    def urls(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT url FROM attempts ORDER BY url")]

    def latest_posts(self) -> list[dict[str, Any]]:
        """Each post (by source) as its latest run saw it, in first-seen order."""
        query = """SELECT p.*, r.started FROM posts p JOIN runs r USING (run_id) ORDER BY r.started, r.run_id"""
        posts: dict[str, dict[str, Any]] = {}
        for row in self._db.execute(query):
            post = dict(row)
            post["citations"] = json.loads(post["citations"])
            post["snapshot"] = json.loads(post["snapshot"]) if post["snapshot"] else None
            if post["source"] in posts:
                # Citations the post no longer lists are still known: keep them, after the current ones.
                current = {c["url"] for c in post["citations"]}
                post["citations"] += [c for c in posts[post["source"]]["citations"] if c["url"] not in current]
                del posts[post["source"]]
            posts[post["source"]] = post
        return list(posts.values())

    def probes(self, run_id: str) -> dict[str, dict[str, Any]]:
        """directory URL → the probe's capture, for one run."""
        rows = self._db.execute("SELECT directory, capture FROM probes WHERE run_id = ?", (run_id,))
        return {row[0]: json.loads(row[1]) for row in rows}


def _attempt(row: sqlite3.Row) -> Attempt:
    values = dict(row)
    values["revisit_of"] = json.loads(values["revisit_of"]) if values["revisit_of"] else None
    values["hops"] = json.loads(values["hops"] or "[]")
    return Attempt(**values)


def _stored_fingerprint(path: Path) -> str | None:
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    except sqlite3.Error:
        return None  # unreadable or from another version: rebuilt
    return str(row[0]) if row else None


def rebuild(collection: Collection, path: Path, fingerprint: str | None = None) -> None:
    """Build the catalog from the manifests into a temporary file, then rename it over ``path``."""
    fingerprint = fingerprint or manifests_fingerprint(collection)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with closing(sqlite3.connect(tmp)) as db:
                with db:
                    _fill(db, collection, fingerprint)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(path.parent)
    except (OSError, sqlite3.Error) as exc:
        raise CatalogError(f"Cannot rebuild the catalog {path}: {exc}; check the collection directory") from exc
