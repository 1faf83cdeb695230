"""Read lists of post URLs: a text file (one per line, ``#`` comments) or standard input."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.sources import SourceError, parse_source

if TYPE_CHECKING:
    from typing import TextIO

LIST_SUFFIXES = frozenset({".txt"})
STDIN = "-"
# A comment runs from "#" at the start of a line, or after whitespace, to the end.
_COMMENT = re.compile(r"(?:^|\s)#.*$")


def parse_url_list(text: str, origin: str) -> list[str]:
    """The URLs listed in ``text``; blank lines and comments are skipped.

    Every line must be an http(s) URL: a bad one raises :class:`SourceError` naming
    ``origin`` and its line number.
    """
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = _COMMENT.sub("", line).strip()
        if not entry:
            continue
        try:
            source = parse_source(entry)
        except SourceError as exc:
            raise SourceError(f"{origin}, line {number}: {exc}") from exc
        if source.kind != "url":
            raise SourceError(f"{origin}, line {number}: expected an http(s) URL, got {entry!r}")
        urls.append(source.location)
    return urls


def read_url_list(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"URL list is not UTF-8 text: {path}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read URL list {path}: {exc.strerror or exc}") from exc
    return parse_url_list(text, path)


def expand_sources(sources: list[str], stdin: TextIO) -> list[str]:
    """Replace each URL list (a ``.txt`` file, or ``-`` for ``stdin``) by the URLs in it.

    Other sources are kept as given. Standard input is read once, at its first ``-``.
    """
    expanded: list[str] = []
    read_stdin = False
    for raw in sources:
        if raw.strip() == STDIN:
            if not read_stdin:
                expanded += parse_url_list(stdin.read(), "standard input")
                read_stdin = True
            continue
        source = parse_source(raw)
        if source.kind == "urllist":
            expanded += read_url_list(source.location)
        else:
            expanded.append(raw)
    return expanded
