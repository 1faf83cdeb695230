"""The manifest compiled from journals straight to its file, one citation at a time.

:func:`~archive.manifest.compile_manifest` holds the whole manifest in memory:
at 20,000 citations that is over 100 MB of dicts on top of the crawl, and the
indented text as much again. Here the journals are read twice: once to note
where each post's and each citation's chosen line lies (offsets, not entries),
once to build and write each citation in turn. The file is byte for byte what
``write_manifest(path, compile_manifest(...))`` writes, and each part is
validated against its part of the schema (envelope, post, citation), which
together is the whole schema: no constraint spans parts.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import jsonschema_rs
from jsonschema import Draft202012Validator

from archive.atomic import atomic_open_text
from archive.exceptions import ManifestError
from archive.journal import entry_at, read_journal_offsets
from archive.manifest import (
    NOT_ATTEMPTED,
    STATUSES,
    _citation,
    _post_head,
    check_part,
    load_schema,
    manifest_head,
)
from archive.requisitetally import REQUISITE_KINDS, RequisiteTally

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["ManifestWithheld", "write_manifest_from_journals"]

Entry = dict[str, Any]
#: Where a journal line lies: (index of the journal in the list given, byte offset of the line).
Line = tuple[int, int]


#: Counted beside the statuses while writing, and removed from the counts returned.
_UNATTEMPTED = "(not attempted)"


class ManifestWithheld(ManifestError):
    """Not written: asked for only if some citation is not attempted, and none is."""


@dataclass
class _Scan:
    """What the first pass keeps: line positions, and the small things (requisites, renders, probes)."""

    posts: dict[str, Line] = field(default_factory=dict)
    captures: dict[str, tuple[Line, bool]] = field(default_factory=dict)
    probes: list[Entry] = field(default_factory=list)
    requisites: RequisiteTally = field(default_factory=RequisiteTally)
    renders: dict[str, Entry] = field(default_factory=dict)


def _scan(journals: Sequence[Path]) -> _Scan:
    """compile_manifest's rules, noting lines: the last post entry per post_id, an archived capture over others."""
    scan = _Scan()
    for index, path in enumerate(journals):
        for offset, entry in read_journal_offsets(path):
            kind = entry.get("kind")
            if kind == "probe":
                scan.probes.append({k: v for k, v in entry.items() if k != "kind"})
            elif kind == "post":
                scan.posts[str(entry.get("post_id"))] = (index, offset)  # a replaced post keeps its place
            elif kind in REQUISITE_KINDS:
                scan.requisites.add(entry)
            elif kind == "render":
                scan.renders[str(entry.get("key"))] = entry.get("render") or {}
            elif kind == "capture":
                key = str(entry.get("key"))
                archived = (entry.get("capture") or {}).get("status") == "archived"
                previous = scan.captures.get(key)
                if previous is None or not previous[1] or archived:
                    scan.captures[key] = ((index, offset), archived)
    return scan


class _Captures:
    """The chosen capture of a citation key, read from its journal line when asked (a dict's ``get``)."""

    def __init__(self, scan: _Scan, handles: list[IO[bytes]]):
        self._lines = scan.captures
        self._handles = handles

    def get(self, key: str, default: Entry | None = None) -> Entry | None:
        found = self._lines.get(key)
        if found is None:
            return default
        (index, offset), _ = found
        capture: Entry = entry_at(self._handles[index], offset).get("capture") or {}
        return capture


@cache
def _part_schema(part: str) -> dict[str, Any]:
    schema = load_schema()
    if part == "manifest":
        return schema
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{part}"}


@cache
def _fast(part: str) -> Any:
    return jsonschema_rs.validator_for(_part_schema(part), validate_formats=False)


@cache
def _reference(part: str) -> Draft202012Validator:
    return Draft202012Validator(_part_schema(part))


def _validate(part: str, value: Entry, where: list[object]) -> None:
    """As validate_manifest, for one part of the manifest found at ``where``."""
    check_part(_fast(part), _reference(part), value, where)


def _dump(value: Any, level: int) -> str:
    """``value`` as json.dumps(indent=2) writes it ``level`` indents deep (JSON text has no raw newlines)."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


def _write_members(out: IO[str], members: list[tuple[str, Any]], level: int, first: bool) -> None:
    for name, value in members:
        out.write(("" if first else ",") + "\n" + "  " * level + json.dumps(name, ensure_ascii=False) + ": " + _dump(value, level))
        first = False


def write_manifest_from_journals(
    path: Path,
    journals: Sequence[Path],
    *,
    run_id: str,
    collection: str,
    started: str,
    finished: str,
    require_unattempted: bool = False,
) -> dict[str, int]:
    """Compile the journals (in order) into the manifest at ``path``, atomically; return citations per status.

    With ``require_unattempted`` the file is kept only if it lists a citation as not
    attempted (after a crash, a manifest is written only when it shows what is missing,
    so that a rerun resumes); otherwise ``path`` is left as it was and
    :class:`ManifestWithheld` is raised.
    """
    journals = [Path(j) for j in journals]
    scan = _scan(journals)
    head = manifest_head(run_id=run_id, collection=collection, started=started, finished=finished)
    tail = {"probes": scan.probes} if scan.probes else {}
    _validate("manifest", {**head, "posts": [], **tail}, [])
    counts: Counter[str] = Counter({status: 0 for status in STATUSES})
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handles: list[IO[bytes]] = [j.open("rb") for j in journals]
        try:
            with atomic_open_text(path) as out:
                out.write("{")
                _write_members(out, list(head.items()), 1, first=True)
                out.write(',\n  "posts": [')
                for number, (index, offset) in enumerate(scan.posts.values()):
                    out.write(("" if number == 0 else ",") + "\n    {")
                    _write_post(out, entry_at(handles[index], offset), scan, handles, number, counts)
                    out.write("\n    }")
                out.write("\n  ]" if scan.posts else "]")
                _write_members(out, list(tail.items()), 1, first=False)
                out.write("\n}\n")
                if require_unattempted and not counts[_UNATTEMPTED]:
                    raise ManifestWithheld(f"{path}: no citation is listed as not attempted")  # the temp file goes
        finally:
            for handle in handles:
                handle.close()
    except OSError as exc:
        raise ManifestError(f"Cannot write manifest {path}: {exc}") from exc
    del counts[_UNATTEMPTED]
    return dict(counts)


def _write_post(out: IO[str], raw: Entry, scan: _Scan, handles: list[IO[bytes]], number: int, counts: Counter[str]) -> None:
    """One post object (6 spaces deep), its citations built and written one at a time."""
    before = list(_post_head(raw, scan.requisites).items())
    after = [(k, v) for k, v in raw.items() if k not in (*dict(before), "citations", "kind")]
    where: list[object] = ["posts", number]
    _validate("post", {**dict(before), "citations": [], **dict(after)}, where)
    _write_members(out, before, 3, first=True)
    out.write(',\n      "citations": [')
    captures = _Captures(scan, handles)
    citations = raw.get("citations") or []
    for position, raw_citation in enumerate(citations):
        citation = _citation(raw_citation, captures, scan.requisites)  # type: ignore[arg-type]  # a dict's get
        render = scan.renders.get(str(raw_citation.get("key")))
        if render is not None:
            citation["render"] = render
        _validate("citation", citation, [*where, "citations", position])
        counts[str(citation["capture"].get("status"))] += 1
        counts[_UNATTEMPTED] += citation["capture"].get("reason") == NOT_ATTEMPTED
        out.write(("" if position == 0 else ",") + "\n        " + _dump(citation, 4))
    out.write("\n      ]" if citations else "]")
    _write_members(out, after, 3, first=False)
