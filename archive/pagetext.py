"""A capture's decoded payload and main text, read back from the collection's WARCs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html
from lxml.etree import ParserError
from warcio.archiveiterator import ArchiveIterator

__all__ = ["main_text", "read_payload", "title_of"]

_DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template")


def read_payload(archive_dir: Path, capture: dict[str, Any]) -> bytes | None:
    """The content-decoded payload of ``capture`` (a manifest capture or hop), or None.

    A revisit has no payload: it is read from the record named by ``revisit_of``.
    """
    source = capture.get("revisit_of") or capture
    name, offset = source.get("warc_file"), source.get("offset")
    if not name or offset is None:
        return None
    try:
        with (Path(archive_dir) / str(name)).open("rb") as stream:
            stream.seek(int(offset))
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "resource"):
                    return None
                data: bytes = record.content_stream().read()
                return data
    except (OSError, ValueError, EOFError):
        return None
    return None


def _tree(payload: bytes) -> Any:
    try:
        # huge_tree: libxml2 otherwise stops, silently, at 256 levels of nesting or a 10 MB text node.
        return lxml.html.fromstring(payload, parser=lxml.html.HTMLParser(huge_tree=True))
    except (ParserError, ValueError):
        return None


def title_of(payload: bytes) -> str:
    tree = _tree(payload)
    if tree is None:
        return ""
    titles = tree.xpath("//title/text()")
    return " ".join(str(titles[0]).split()) if titles else ""


def main_text(payload: bytes) -> str:
    """Whitespace-normalised text of the article (``article``, ``main`` or ``body``), one line per block."""
    tree = _tree(payload)
    if tree is None:
        return payload.decode("utf-8", "replace")
    for element in tree.xpath("|".join(f"//{tag}" for tag in _DROP)):
        element.drop_tree()
    for path in ("//article", "//main", "//body"):
        found = tree.xpath(path)
        if found:
            tree = found[0]
            break
    lines = []
    for block in re.split(r"\n\s*\n|\n", tree.text_content()):
        text = " ".join(block.split())
        if text:
            lines.append(text)
    return "\n".join(lines)
