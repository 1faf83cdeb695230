"""Robust Links: a copy of a post's HTML whose archived citations carry data-versionurl/-date."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from w3lib.encoding import html_to_unicode

from archive.atomic import atomic_write_bytes
from archive.pagetext import read_payload
from crawler.urls import key_or_none, resolve_url

logger = logging.getLogger(__name__)

__all__ = ["RobustLinksError", "Version", "annotate_html", "replay_url", "versions_of", "write_robust_links"]


class RobustLinksError(ValueError):
    """Robust Links cannot be written; the message is one line saying what to do."""


@dataclass(frozen=True, slots=True)
class Version:
    """Where a cited URL's archived copy can be read, and when it was taken."""

    url: str
    date: str


def check_replay_base(base: str) -> str:
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RobustLinksError(
            f"--replay-base must be the public http(s) URL of the replay server, got {base!r}"
        )
    return base.strip().rstrip("/")


def replay_url(replay_base: str, collection: str, timestamp: str, url: str) -> str:
    """pywb's address of ``url`` as captured at ``timestamp`` (14 digits) in ``collection``."""
    return f"{check_replay_base(replay_base)}/{collection}/{timestamp}/{url}"


def versions_of(post: dict[str, Any], collection: str, replay_base: str) -> dict[str, Version]:
    """Citation key → its archived version, for the post's archived citations."""
    versions: dict[str, Version] = {}
    for citation in post.get("citations") or []:
        capture = citation.get("capture") or {}
        timestamp = capture.get("timestamp")
        if capture.get("status") != "archived" or not timestamp:
            continue
        date = f"{timestamp[0:4]}-{timestamp[4:6]}-{timestamp[6:8]}"  # ISO 8601 date
        url = replay_url(replay_base, collection, timestamp, citation["url"])
        key = key_or_none(citation["url"])
        if key is not None:
            versions.setdefault(key, Version(url, date))
    return versions


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


class _Annotator(HTMLParser):
    """Finds the ``<a>`` start tags to annotate; the document itself is edited by offsets,
    so everything else stays exactly as written."""

    def __init__(self, base: str | None, versions: dict[str, Version]) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.versions = versions
        self.inserts: list[tuple[int, int, str, str]] = []  # line, column, tag text, attributes

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href"):
            self.base = resolve_url(self.base, values["href"] or "") or self.base
        if tag != "a" or "data-versionurl" in values:
            return
        url = resolve_url(self.base, values.get("href") or "")
        key = key_or_none(url) if url else None
        version = self.versions.get(key) if key else None
        if version is None:
            return
        line, column = self.getpos()
        attributes = f' data-versionurl="{_escape(version.url)}" data-versiondate="{version.date}"'
        self.inserts.append((line, column, self.get_starttag_text() or "", attributes))

    handle_startendtag = handle_starttag


def annotate_html(html: str, base_url: str | None, versions: dict[str, Version]) -> tuple[str, int]:
    """``html`` with Robust Links attributes on each ``<a>`` whose href is an archived
    citation; returns it with the number of links annotated."""
    annotator = _Annotator(base_url, versions)
    annotator.feed(html)
    annotator.close()
    line_starts = [0]
    line_starts += [i + 1 for i, ch in enumerate(html) if ch == "\n"]
    out, last = [], 0
    count = 0
    for line, column, tag_text, attributes in annotator.inserts:
        start = line_starts[line - 1] + column
        if html[start : start + len(tag_text)] != tag_text:
            continue  # the parser's position does not match the text: leave that tag alone
        end = start + len(tag_text) - 1
        # Before a self-closing "/", but not one ending an unquoted value (href=/a/>).
        if tag_text.endswith("/>") and tag_text[-3:-2] in ("'", '"', " ", "\t", "\n", "\r"):
            end -= 1
        out += [html[last:end], attributes]
        last = end
        count += 1
    out.append(html[last:])
    return "".join(out), count


def _post_bytes(post: dict[str, Any], archive_dir: Path) -> bytes | None:
    """The post's HTML: its archived snapshot, else the local HTML file it was read from."""
    if post.get("snapshot"):
        return read_payload(archive_dir, post["snapshot"])
    source = Path(str(post.get("source") or ""))
    if source.suffix.lower() in (".html", ".htm", ".xhtml") and source.is_file():
        return source.read_bytes()
    return None


def write_robust_links(manifest_path: Path, target: Path, replay_base: str) -> list[Path]:
    """Write a Robust Links copy of each HTML post of the manifest's run.

    With one such post ``target`` is the file written; with several it is a directory
    holding ``POST_ID.html`` for each. Returns the files written.
    """
    check_replay_base(replay_base)
    try:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RobustLinksError(f"cannot read manifest {manifest_path}: {exc}") from exc
    archive_dir = Path(manifest_path).resolve().parent.parent / "archive"
    pages = []
    for post in manifest.get("posts") or []:
        body = _post_bytes(post, archive_dir)
        if body is None:
            logger.warning("No HTML for post %(source)s: no Robust Links copy", {"source": post.get("source")})
            continue
        encoding, html = html_to_unicode(None, body, url=post.get("url"))
        versions = versions_of(post, manifest["collection"], replay_base)
        annotated, count = annotate_html(html, post.get("url"), versions)
        pages.append((post, annotated.encode(encoding, "xmlcharrefreplace"), count))
    if not pages:
        raise RobustLinksError("no post with HTML in this run: nothing to annotate")
    if len(pages) == 1:
        paths = [target]
    else:
        target.mkdir(parents=True, exist_ok=True)
        paths = [target / f"{post.get('post_id') or n}.html" for n, (post, _, _) in enumerate(pages)]
    for path, (post, data, count) in zip(paths, pages, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        logger.info("Robust Links: %(n)d link(s) in %(path)s", {"n": count, "path": path})
    return paths
