"""Read lists of post URLs: a text file (one per line, ``#`` comments) or standard input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.sources import SourceError, parse_source

if TYPE_CHECKING:
    from typing import TextIO

LIST_SUFFIXES = frozenset({".txt"})
STDIN = "-"
# A comment runs from "#" at the start of a line, or after whitespace, to the end.
_COMMENT = re.compile(r"(?:^|\s)#.*$")


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a URL list that is no post URL: its text, and why (naming the list and line)."""

    text: str
    error: SourceError


def url_list_entries(text: str, origin: str) -> list[str | BadLine]:
    """Each line of ``text`` that is not blank or a comment: its http(s) URL, or a
    :class:`BadLine` (the crawl skips that line alone)."""
    entries: list[str | BadLine] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = _COMMENT.sub("", line).strip()
        if entry:
            try:
                entries.append(_url_of(entry, origin, number))
            except SourceError as exc:
                entries.append(BadLine(entry, exc))
    return entries


def parse_url_list(text: str, origin: str) -> list[str]:
    """The URLs listed in ``text``; blank lines and comments are skipped.

    Every line must be an http(s) URL: a bad one raises :class:`SourceError` naming
    ``origin`` and its line number (the CLI refuses the list before the crawl).
    """
    urls = []
    for entry in url_list_entries(text, origin):
        if isinstance(entry, BadLine):
            raise entry.error
        urls.append(entry)
    return urls


def _url_of(entry: str, origin: str, number: int) -> str:
    try:
        source = parse_source(entry)
    except SourceError as exc:
        raise SourceError(f"{origin}, line {number}: {exc}") from exc
    if source.kind != "url":
        raise SourceError(f"{origin}, line {number}: expected an http(s) URL, got {entry!r}")
    return source.location


def read_list_text(path: str) -> str:
    """The text of the URL list file at ``path``; SourceError when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"URL list is not UTF-8 text: {path}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read URL list {path}: {exc.strerror or exc}") from exc


def read_url_list(path: str) -> list[str]:
    return parse_url_list(read_list_text(path), path)


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
