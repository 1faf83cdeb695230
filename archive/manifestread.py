"""Read a manifest post by post and citation by citation, never whole.

``json.load`` of a 20,000-citation manifest (36 MB) takes about 150 MB; the
end-of-run summary and exit code only need one citation at a time. ijson
(yajl2 C backend) parses the file incrementally.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Literal

import ijson

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["ManifestReadError", "iter_manifest", "manifest_started"]

Entry = dict[str, Any]
Event = tuple[Literal["post"], Entry] | tuple[Literal["citation"], Entry]

_POST = "posts.item"
_CITATION = "posts.item.citations.item"
_OPENERS = frozenset({"start_map", "start_array"})
_CLOSERS = frozenset({"end_map", "end_array"})


class ManifestReadError(ValueError):
    """The file is not a manifest ijson can read (truncated, not JSON)."""


class _ValueBuilder:
    """Builds one JSON value from its ijson events; ``done`` once the value is complete."""

    def __init__(self) -> None:
        self._builder = ijson.ObjectBuilder()
        self._depth = 0
        self.done = False

    def event(self, event: str, value: Any) -> None:
        self._builder.event(event, value)
        if event in _OPENERS:
            self._depth += 1
        elif event in _CLOSERS:
            self._depth -= 1
        self.done = self._depth == 0

    @property
    def value(self) -> Any:
        return self._builder.value


def iter_manifest(fh: IO[bytes]) -> Iterator[Event]:
    """``("post", fields)`` for each post, then ``("citation", citation)`` for each of its citations.

    ``fields`` holds the post's members written before ``citations`` (source,
    url, title, snapshot, as archive.manifest writes them). Raises
    :class:`ManifestReadError` on malformed input, possibly after some events.
    """
    post: Entry | None = None
    field: str | None = None
    member: _ValueBuilder | None = None
    citation: _ValueBuilder | None = None
    try:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if citation is not None or (prefix == _CITATION and event == "start_map"):
                citation = citation or _ValueBuilder()
                citation.event(event, value)
                if citation.done:
                    yield ("citation", citation.value)
                    citation = None
            elif prefix == _POST:
                if event == "start_map":
                    post, field = {}, None
                elif event == "map_key" and post is not None:
                    field = value
                    if field == "citations":
                        yield ("post", dict(post))
                        member = None
                    else:
                        member = _ValueBuilder()
            elif member is not None and post is not None and field is not None and prefix.startswith(_POST + "."):
                member.event(event, value)
                if member.done:
                    post[field] = member.value
                    member = None
    except ijson.JSONError as exc:
        raise ManifestReadError(str(exc)) from exc


def manifest_started(path: Path) -> str | None:
    """The ``started`` of the manifest at ``path``, read from its head; None if unreadable."""
    try:
        with path.open("rb") as fh:
            value = next(ijson.items(fh, "started"), None)
    except (OSError, ijson.JSONError):
        return None
    return value if isinstance(value, str) else None
