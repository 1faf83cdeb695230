"""Parse HTML with lxml without its silent limits, and say when a document was still cut short.

libxml2 stops building the tree, without raising, at an element nested 256 deep or a text
node over 10 MB (legacy pages of unclosed ``<font>``, a large inline ``<style>``): everything
after that point is lost. ``huge_tree`` (XML_PARSE_HUGE) lifts these to 2048 levels and 1 GB;
past them the parser still stops, and :func:`parse_document` returns a warning saying where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lxml.etree
import lxml.html

__all__ = ["ParsedDocument", "parse_document"]

#: libxml2's deepest nesting with XML_PARSE_HUGE (parserInternals.c, xmlParserMaxDepth).
MAX_DEPTH = 2048


@dataclass(slots=True)
class ParsedDocument:
    """The document's root element (None: nothing to parse) and what the parser could not read."""

    root: Any
    warnings: list[str] = field(default_factory=list)


def _parser(remove_pis: bool) -> lxml.html.HTMLParser:
    # A parser per document: its error log is the one document's.
    return lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=remove_pis, huge_tree=True)


def parse_document(data: bytes, *, remove_pis: bool = True) -> ParsedDocument:
    """Parse UTF-8 ``data`` leniently, as lxml.html does, with libxml2's size and depth limits raised.

    Never raises: a document lxml refuses (empty, only a comment) gives a None root.
    """
    parser = _parser(remove_pis)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return ParsedDocument(None, _cut_warnings(parser))
    return ParsedDocument(root, _cut_warnings(parser))


def _cut_warnings(parser: lxml.html.HTMLParser) -> list[str]:
    """One line per point where libxml2 gave up (a fatal error: it reads nothing after it)."""
    warnings = []
    for error in parser.error_log:
        if error.level < lxml.etree.ErrorLevels.FATAL:
            continue
        where = f"line {error.line}, column {error.column}"
        message = " ".join(str(error.message).split())
        if "depth" in message.lower():
            what = f"elements are nested deeper than {MAX_DEPTH} levels"
        elif "huge" in message.lower() or "buffer size" in message.lower():
            what = "a text node is larger than 1 GB"
        else:
            what = message
        warnings.append(f"the HTML parser stopped at {where}: {what}; nothing after that point was read")
    return warnings
