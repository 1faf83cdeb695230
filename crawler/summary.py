"""The end-of-run summary table and the exit code, both read from the run's manifest."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK, EXIT_POST_FAILED

NOT_ATTEMPTED = "not attempted"


def load_manifest(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as handle:
            manifest: dict[str, Any] = json.load(handle)
            return manifest
    except (OSError, ValueError):
        return None


def exit_code_for(manifest_path: Path) -> int:
    manifest = load_manifest(manifest_path)
    if manifest is None:
        return EXIT_INCOMPLETE
    posts = manifest["posts"]
    if any(post["snapshot"] is not None and post["snapshot"]["status"] != "archived" for post in posts):
        return EXIT_POST_FAILED
    for post in posts:
        for citation in post["citations"]:
            if (citation["capture"].get("reason") or "").startswith(NOT_ATTEMPTED):
                return EXIT_INCOMPLETE
    return EXIT_OK


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def replay_url(collection: str, capture: dict[str, Any], url: str) -> str:
    """Where `citearchive replay` (archive origin on port 8081 by default) serves a capture."""
    return f"http://127.0.0.1:8081/{collection}/{capture['timestamp']}/{url}"


def print_summary(manifest_path: Path, out: Path, collection: str, stream: TextIO = sys.stdout) -> None:
    manifest = load_manifest(manifest_path)
    if manifest is None:
        print(
            f"No manifest was written ({manifest_path}): the run did not finish. What was archived is kept;"
            " run the same command again to resume.",
            file=stream,
        )
        return
    counts: dict[str, int] = {}
    for post in manifest["posts"]:
        snapshot = post["snapshot"]
        heading = post["title"] or post["url"] or post["source"]
        print(f"\n{heading}", file=stream)
        print(f"  source: {post['source']}", file=stream)
        if snapshot is not None and snapshot["status"] != "archived":
            print(f"  post {snapshot['status']}: {snapshot['reason']}", file=stream)
        print(f"  {'n':>3}  {'status':<9} {'http':>4}  url / reason", file=stream)
        for citation in post["citations"]:
            capture = citation["capture"]
            status = capture["status"]
            counts[status] = counts.get(status, 0) + 1
            http = str(capture["http_status"] or "-")
            print(f"  {citation['n']:>3}  {status:<9} {http:>4}  {_clip(citation['url'], 90)}", file=stream)
            if capture.get("reason"):
                print(f"  {'':>3}  {'':<9} {'':>4}  ↳ {_clip(capture['reason'], 88)}", file=stream)
    totals = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no citations"
    print(f"\nCitations: {totals}", file=stream)
    print(f"Manifest:  {manifest_path}", file=stream)
    collection_root = out / "collections" / collection
    print(f"WARCs:     {collection_root / 'archive'}", file=stream)
    print(f"Index:     {collection_root / 'indexes' / 'index.cdxj'}", file=stream)
    archived = [
        (citation, citation["capture"])
        for post in manifest["posts"]
        for citation in post["citations"]
        if citation["capture"]["status"] == "archived"
    ]
    if archived:
        citation, capture = archived[0]
        print(f"\nReplay: citearchive replay --out {out}   (landing page on http://127.0.0.1:8080/)", file=stream)
        print(f"  an archived copy: {replay_url(collection, capture, citation['url'])}", file=stream)
        print(f"  or with pywb alone: wayback -d {out}", file=stream)
