"""The run manifest: compiled from the journal, validated by JSON Schema, written atomically."""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from archive import software_version
from archive.atomic import atomic_open_text
from archive.exceptions import ManifestError
from archive.journal import Journal, read_journal
from archive.requisitetally import REQUISITE_KINDS, RequisiteTally, post_parent

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "CAPTURE_FIELDS",
    "NOT_ATTEMPTED",
    "SCHEMA_ID",
    "STATUSES",
    "Journal",
    "compile_manifest",
    "load_schema",
    "read_journal",
    "summarise",
    "validate_manifest",
    "write_manifest",
]

SCHEMA_ID = "citearchive-manifest/1"
STATUSES = ("archived", "failed", "blocked", "skipped")
# Every capture carries these keys (null when unknown); "hops" is optional.
CAPTURE_FIELDS = (
    "status",
    "http_status",
    "final_url",
    "timestamp",
    "warc_file",
    "offset",
    "length",
    "record_id",
    "payload_digest",
    "mime",
    "reason",
)
NOT_ATTEMPTED = "not attempted: the run ended before this citation was fetched"

Entry = dict[str, Any]


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The published manifest JSON Schema (draft 2020-12), from the package data."""
    text = files("archive").joinpath("manifest.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    """The same schema compiled by jsonschema-rs: about 250x faster than jsonschema on a valid manifest.

    jsonschema walks every citation at about 0.5 ms each (1 s per 2,000
    citations, at the end of every run). Formats stay annotations, as in
    :func:`_validator`.
    """
    return jsonschema_rs.validator_for(load_schema(), validate_formats=False)


def _where(path: Iterable[object]) -> str:
    out = "manifest"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Raise :class:`ManifestError` with a one-line message if ``manifest`` breaks the schema."""
    check_part(_fast_validator(), _validator(), manifest, ())


def check_part(fast: Any, reference: Draft202012Validator, value: Any, where: Iterable[object]) -> None:
    """Raise :class:`ManifestError` if ``value``, found at ``where`` in a manifest, breaks its schema.

    jsonschema-rs (``fast``) decides; jsonschema (``reference``, the reference
    implementation) then finds the most relevant error for the message, and has
    the last word.
    """
    if fast.is_valid(value):
        return
    error = best_match(reference.iter_errors(value))
    if error is not None:
        message = " ".join(error.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
        raise ManifestError(f"Invalid manifest at {_where([*where, *error.absolute_path])}: {message}")


def _capture(raw: Entry) -> Entry:
    """A capture dict with every standard field present (null when unknown), extras kept."""
    capture = {name: raw.get(name) for name in CAPTURE_FIELDS}
    capture.update((k, v) for k, v in raw.items() if k not in capture)
    return capture


def _not_attempted() -> Entry:
    return _capture({"status": "skipped", "reason": NOT_ATTEMPTED})


def _citation(raw: Entry, captures: dict[str, Entry], requisites: RequisiteTally | None = None) -> Entry:
    # A citation decided when the post was read (a URL no request can be made for) carries its capture.
    own = raw.get("capture")
    found = own if isinstance(own, dict) else captures.get(raw.get("key", ""))
    citation = {
        "n": raw.get("n"),
        "url": raw.get("url"),
        "anchor_text": raw.get("anchor_text"),
        "context": raw.get("context"),
    }
    citation.update((k, v) for k, v in raw.items() if k not in citation and k != "key")
    citation["capture"] = _capture(found) if found is not None else _not_attempted()
    summary = requisites.summary(str(raw.get("key"))) if requisites is not None else None
    if summary is not None:
        citation["requisites"] = summary
    return citation


def _post_head(raw: Entry, requisites: RequisiteTally | None) -> Entry:
    """A post's members before its citations: the page's ``requisites`` follow its ``snapshot`` when it was searched."""
    snapshot = raw.get("snapshot")
    head = {
        "source": raw.get("source"),
        "url": raw.get("url"),
        "title": raw.get("title"),
        "snapshot": _capture(snapshot) if snapshot is not None else None,
    }
    summary = requisites.summary(post_parent(str(raw.get("post_id")))) if requisites is not None else None
    if summary is not None:
        head["requisites"] = summary
    # Before the citations, so a reader streaming the manifest (archive.manifestread) has them with the post.
    for name in ("published", "extraction"):
        if raw.get(name) is not None:
            head[name] = raw[name]
    return head


def _post(raw: Entry, captures: dict[str, Entry], requisites: RequisiteTally | None = None) -> Entry:
    post = _post_head(raw, requisites)
    post["citations"] = [_citation(c, captures, requisites) for c in raw.get("citations") or []]
    post.update((k, v) for k, v in raw.items() if k not in post and k != "kind")
    return post


def compile_manifest(
    entries: Iterable[Entry], *, run_id: str, collection: str, started: str, finished: str
) -> dict[str, Any]:
    """Build the manifest from journal entries (``kind`` "post" or "capture").

    Posts keep first-seen order; a later entry with the same ``post_id``
    replaces the earlier one. Each citation takes the capture whose ``key``
    equals its own (an "archived" capture wins over others, otherwise the
    last one), unless its post entry gave it one (a "skipped" malformed
    URL); a citation with none is "skipped" as not attempted. A citation
    (or a post's page) whose requisites were looked for gets ``requisites`` (see
    :class:`~archive.requisitetally.RequisiteTally`); one rendered in the
    browser (``kind`` "render") gets ``render``. Entries of other kinds
    are ignored. The result is not validated here: see
    :func:`write_manifest`.
    """
    posts: dict[str, Entry] = {}
    captures: dict[str, Entry] = {}
    probes: list[Entry] = []
    requisites = RequisiteTally()
    renders: dict[str, Entry] = {}
    for entry in entries:
        kind = entry.get("kind")
        if kind == "probe":  # soft-404 evidence (archive.rot): a random sibling path's answer
            probes.append({k: v for k, v in entry.items() if k != "kind"})
        elif kind == "post":
            posts[str(entry.get("post_id"))] = entry
        elif kind in REQUISITE_KINDS:
            requisites.add(entry)
        elif kind == "render":  # browser mode (crawler.render): the last render of a citation key wins
            renders[str(entry.get("key"))] = entry.get("render") or {}
        elif kind == "capture":
            key = str(entry.get("key"))
            capture = entry.get("capture") or {}
            previous = captures.get(key)
            if (
                previous is None
                or previous.get("status") != "archived"
                or capture.get("status") == "archived"
            ):
                captures[key] = capture
    return {
        **manifest_head(run_id=run_id, collection=collection, started=started, finished=finished),
        "posts": _with_renders([_post(post, captures, requisites) for post in posts.values()], posts, renders),
        **({"probes": probes} if probes else {}),
    }


def manifest_head(*, run_id: str, collection: str, started: str, finished: str) -> Entry:
    """The members a manifest starts with, before ``posts``, in their order."""
    return {
        "schema": SCHEMA_ID,
        "run_id": run_id,
        "collection": collection,
        "started": started,
        "finished": finished,
        "tool": {"name": "citearchive", "version": software_version()},
    }


def _with_renders(compiled: list[Entry], raw_posts: dict[str, Entry], renders: dict[str, Entry]) -> list[Entry]:
    """Give each citation rendered in the browser its ``render`` object (by citation key)."""
    if renders:
        for post, raw in zip(compiled, raw_posts.values(), strict=True):
            for citation, raw_citation in zip(post["citations"], raw.get("citations") or [], strict=True):
                render = renders.get(str(raw_citation.get("key")))
                if render is not None:
                    citation["render"] = render
    return compiled


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Validate ``manifest``, then write it atomically as indented UTF-8 JSON."""
    validate_manifest(manifest)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Encoded as it is written: the whole text at once was as large again as the manifest.
        with atomic_open_text(path) as out:
            json.dump(manifest, out, indent=2, ensure_ascii=False)
            out.write("\n")
    except OSError as exc:
        raise ManifestError(f"Cannot write manifest {path}: {exc}") from exc


def summarise(manifest: dict[str, Any]) -> dict[str, int]:
    """Citation counts per capture status (every known status present, zero if unused)."""
    counts: Counter[str] = Counter({status: 0 for status in STATUSES})
    for post in manifest.get("posts", []):
        for citation in post.get("citations", []):
            counts[str((citation.get("capture") or {}).get("status"))] += 1
    return dict(counts)
