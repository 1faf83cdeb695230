"""The text of an archived post, read from its snapshot record, as blocks of plain and linked segments."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import lxml.html
from lxml import etree
from warcio.archiveiterator import ArchiveIterator
from warcio.limitreader import LimitReader

logger = logging.getLogger(__name__)

__all__ = ["Segment", "post_blocks"]

#: The most decoded bytes of a post read for its text: a compression bomb stops here.
MAX_POST_BYTES = 5 * 1024 * 1024
BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "dt", "dd")
_CLASS = "//*[contains(concat(' ', normalize-space(@class), ' '), ' {} ')]"
MAIN = (
    "//article",
    "//main",
    "//*[@role='main']",
    *(_CLASS.format(name) for name in ("entry-content", "post-content", "post-body")),
    "//body",
)
SKIP = ("script", "style", "noscript", "template", "nav", "aside", "footer")


@dataclass(frozen=True)
class Segment:
    """A run of text; ``citation`` is the cited entry it links to, if any."""

    text: str
    citation: dict[str, Any] | None = None


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def read_snapshot(archive_dir: Path, snapshot: dict[str, Any] | None) -> bytes | None:
    """The decoded body of the post's own capture, at most MAX_POST_BYTES; None when unavailable."""
    if not snapshot or not snapshot.get("warc_file") or snapshot.get("offset") is None:
        return None
    path = archive_dir / str(snapshot["warc_file"])
    # The manifest is data, not a path to trust: it may only name a file in archive/.
    if not _inside(path, archive_dir) or not path.is_file():
        return None
    try:
        with path.open("rb") as stream:
            stream.seek(int(snapshot["offset"]))
            record = next(iter(ArchiveIterator(stream)), None)
            if record is None or record.rec_type != "response":
                return None
            body: bytes = LimitReader(record.content_stream(), MAX_POST_BYTES).read()
            return body
    except (OSError, ValueError, EOFError) as exc:
        logger.warning("Cannot read the post snapshot in %(path)s: %(error)s", {"path": path, "error": exc})
        return None


def _container(document: Any) -> Any:
    for selector in MAIN:
        found = document.xpath(selector)
        if found:
            return found[0]
    return document


def _walk(element: Any, base: str, cited: dict[str, dict[str, Any]]) -> list[Segment]:
    segments: list[Segment] = []
    if element.text and element.tag not in SKIP:
        segments.append(Segment(element.text))
    for child in element:
        if not isinstance(child.tag, str) or child.tag in SKIP:
            pass
        elif child.tag == "a":
            href = _absolute(base, child.get("href") or "")
            segments.append(Segment(child.text_content(), cited.get(href)))
        else:
            segments.extend(_walk(child, base, cited))
        if child.tail:
            segments.append(Segment(child.tail))
    return segments


def _absolute(base: str, href: str) -> str:
    """``href`` resolved against ``base``, without fragment; as written when it is too malformed to resolve."""
    try:
        return urldefrag(urljoin(base, href.strip())).url
    except ValueError:  # an unclosed IPv6 bracket and the like: compared as written
        return href.strip().partition("#")[0]


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for segment in segments:
        if merged and segment.citation is None and merged[-1].citation is None:
            merged[-1] = Segment(merged[-1].text + segment.text)
        else:
            merged.append(segment)
    out = [Segment(re.sub(r"\s+", " ", s.text), s.citation) for s in merged]
    if out and out[0].citation is None:
        out[0] = Segment(out[0].text.lstrip())
    if out and out[-1].citation is None:
        out[-1] = Segment(out[-1].text.rstrip())
    return out


def blocks_from_html(html: bytes, base: str, citations: list[dict[str, Any]]) -> list[list[Segment]]:
    """The post's main-content blocks; links to a cited URL carry that citation."""
    try:
        # huge_tree: libxml2 otherwise stops, silently, at 256 levels of nesting or a 10 MB text node.
        document = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(huge_tree=True))
    except (etree.ParserError, ValueError):
        return []
    cited = {_absolute("", str(c.get("url"))): c for c in citations if c.get("url")}
    container = _container(document)
    blocks: list[list[Segment]] = []
    for element in container.iter(*BLOCKS):
        if any(ancestor.tag in BLOCKS or ancestor.tag in SKIP for ancestor in element.iterancestors()):
            continue
        segments = [s for s in _merge(_walk(element, base, cited)) if s.text.strip() or s.citation]
        if segments:
            blocks.append(segments)
    return blocks


def post_blocks(archive_dir: Path, post: dict[str, Any]) -> list[list[Segment]]:
    """Blocks of the archived post text, or [] when the post has no readable snapshot (a local file)."""
    html = read_snapshot(archive_dir, post.get("snapshot"))
    if html is None:
        return []
    return blocks_from_html(html, str(post.get("url") or ""), list(post.get("citations") or []))
