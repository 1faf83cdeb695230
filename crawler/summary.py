"""The end-of-run summary table and the exit code, both read from the run's manifest."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from archive.collection import Collection
from archive.manifestread import ManifestReadError, iter_manifest
from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK, EXIT_POST_FAILED

if TYPE_CHECKING:
    from collections.abc import Iterator

NOT_ATTEMPTED = "not attempted"


def manifest_events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """("post", fields) and ("citation", citation) events (archive.manifestread); OSError if unreadable."""
    with path.open("rb") as handle:
        yield from iter_manifest(handle)


class _ExitTally:
    """What decides the exit code, noted event by event while the manifest is read once."""

    def __init__(self, renders: bool = True) -> None:
        self.post_failed = self.incomplete = False
        self.renders = renders  # a render not attempted (browser mode) makes the run incomplete too

    def note(self, kind: str, value: dict[str, Any]) -> None:
        if kind == "post":
            snapshot = value.get("snapshot")
            if snapshot is not None and (snapshot.get("reason") or "").startswith(NOT_ATTEMPTED):
                self.incomplete = True  # an interrupted run never read it (crawler/unreached.py)
            elif snapshot is not None and snapshot["status"] != "archived":
                self.post_failed = True
        elif (value["capture"].get("reason") or "").startswith(NOT_ATTEMPTED) or (
            self.renders and ((value.get("render") or {}).get("reason") or "").startswith(NOT_ATTEMPTED)
        ):
            self.incomplete = True

    @property
    def code(self) -> int:
        if self.post_failed:
            return EXIT_POST_FAILED
        return EXIT_INCOMPLETE if self.incomplete else EXIT_OK


def exit_code_for(manifest_path: Path, *, renders: bool = True) -> int:
    """The run's exit code, from its manifest; ``renders=False``: of its crawl alone (before a render phase)."""
    tally = _ExitTally(renders)
    try:
        for kind, value in manifest_events(manifest_path):
            tally.note(kind, value)
    except (OSError, ManifestReadError):
        return EXIT_INCOMPLETE
    return tally.code


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def replay_url(collection: str, capture: dict[str, Any], url: str) -> str:
    """Where `citearchive replay` (archive origin on port 8081 by default) serves a capture."""
    return f"http://127.0.0.1:8081/{collection}/{capture['timestamp']}/{url}"


def summarize(manifest_path: Path, out: Path, collection: str, *, quiet: bool = False) -> int:
    """The run's exit code, after its summary unless ``quiet`` (``-q``: only warnings and errors are printed)."""
    return exit_code_for(manifest_path) if quiet else print_summary(manifest_path, out, collection)


def print_summary(manifest_path: Path, out: Path, collection: str, stream: TextIO | None = None) -> int:
    """Print the run's table and where its files are; return its exit code (:func:`exit_code_for`), from one read."""
    stream = stream or sys.stdout
    counts: dict[str, int] = {}
    first_archived: tuple[dict[str, Any], dict[str, Any]] | None = None
    tally = _ExitTally()
    try:
        for kind, value in manifest_events(manifest_path):
            tally.note(kind, value)
            if kind == "post":
                _print_post_heading(value, stream)
                continue
            capture = value["capture"]
            status = capture["status"]
            counts[status] = counts.get(status, 0) + 1
            if status == "archived" and first_archived is None:
                first_archived = (value, capture)
            http = str(capture["http_status"] or "-")
            print(f"  {value['n']:>3}  {status:<9} {http:>4}  {_clip(value['url'], 90)}", file=stream)
            if capture.get("reason"):
                print(f"  {'':>3}  {'':<9} {'':>4}  ↳ {_clip(capture['reason'], 88)}", file=stream)
    except (OSError, ManifestReadError):
        print(
            f"No manifest was written ({manifest_path}): the run did not finish. What was archived is kept;"
            " run the same command again to resume.",
            file=stream,
        )
        _print_log_line(Collection(out, collection).log_path(manifest_path.stem), stream)
        return EXIT_INCOMPLETE
    totals = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no citations"
    print(f"\nCitations: {totals}", file=stream)
    print(f"Manifest:  {manifest_path}", file=stream)
    collection_root = out / "collections" / collection
    print(f"WARCs:     {collection_root / 'archive'}", file=stream)
    print(f"Index:     {collection_root / 'indexes' / 'index.cdxj'}", file=stream)
    if first_archived is not None:
        citation, capture = first_archived
        replay = f"{as_typed('citearchive')} replay --out {out}"
        print(f"\nReplay: {replay}   (landing page on http://127.0.0.1:8080/)", file=stream)
        print(f"  an archived copy: {replay_url(collection, capture, citation['url'])}", file=stream)
        print(f"  or with pywb alone: {as_typed('wayback')} -d {out}", file=stream)
    _print_log_line(Collection(out, collection).log_path(manifest_path.stem), stream)
    return tally.code


def as_typed(command: str) -> str:
    """How to type ``command`` (a script of this environment): its bare name when the shell
    finds this environment's copy (an activated venv, a pip install), else its path (.venv/bin/...)."""
    script = Path(sys.executable).parent / command
    found = shutil.which(command)
    if found is not None and Path(found).resolve() == script.resolve():
        return command
    try:
        relative = os.path.relpath(script)
    except ValueError:  # another drive (Windows)
        return str(script)
    return relative if not relative.startswith("..") else str(script)


def _print_log_line(log: Path, stream: TextIO) -> None:
    """Where the run's full log is (crawler/runlog.py), the summary's last line."""
    if log.is_file():
        print(f"\nLog:       {log}  (the crawl's full log; -v also shows it as it runs)", file=stream)


def _print_post_heading(post: dict[str, Any], stream: TextIO) -> None:
    snapshot = post["snapshot"]
    heading = post["title"] or post["url"] or post["source"]
    print(f"\n{heading}", file=stream)
    print(f"  source: {post['source']}", file=stream)
    if snapshot is not None and snapshot["status"] != "archived":
        print(f"  post {snapshot['status']}: {snapshot['reason']}", file=stream)
    line = extraction_line(post.get("extraction"))
    if line is not None:
        print(f"  {line}", file=stream)
    print(f"  {'n':>3}  {'status':<9} {'http':>4}  url / reason", file=stream)


def extraction_line(extraction: dict[str, Any] | None) -> str | None:
    """One line when a post's citations may be incomplete: no article body was recognised, or warnings."""
    if not extraction or not (extraction.get("fallback") or extraction.get("warnings")):
        return None
    parts = []
    if extraction.get("fallback"):
        parts.append("no article body recognised: the whole page was read")
    parts.extend(str(warning) for warning in extraction.get("warnings") or [])
    return _clip("extraction: " + "; ".join(parts), 400)
