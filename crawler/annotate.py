"""After a recrawl: write each citation's rot verdict, drift and best copy into the run's manifest."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from archive.catalog import Catalog
from archive.manifest import write_manifest
from archive.report import build_report

if TYPE_CHECKING:
    from pathlib import Path

    from archive.collection import Collection


def annotate_manifest(collection: Collection, manifest_path: Path) -> dict[str, Any]:
    """Add ``rot``, ``drift`` and ``best_capture`` to every citation; rewrite atomically (validated).

    ``best_capture`` is the last good capture: when the latest attempt failed,
    it names an earlier run's copy, so the manifest always points at a readable one.
    """
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    with Catalog.open(collection) as catalog:
        report = build_report(collection, catalog)
    found = {c["url"]: c for post in report["posts"] for c in post["citations"]}
    for post in manifest.get("posts") or []:
        for citation in post.get("citations") or []:
            known = found.get(citation.get("url"))
            if known is None:
                continue
            citation["rot"] = {"state": known["state"], "failures": known["failures"], "evidence": known["evidence"]}
            drift = known["drift"]
            citation["drift"] = (
                None if drift is None else {k: drift[k] for k in ("similarity", "change", "flagged", "from", "to")}
            )
            citation["best_capture"] = known["last_good"]
    write_manifest(manifest_path, manifest)
    # The rewritten manifest changed the catalog's fingerprint: bring it up to date now.
    Catalog.open(collection).close()
    return manifest
