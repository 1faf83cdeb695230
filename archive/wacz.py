"""A collection as one WACZ file (spec 1.1.1): WARCs, CDXJ index, pages.jsonl of the posts and cited pages, datapackage."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from archive import software_version
from archive.atomic import atomic_open
from archive.collection import Collection
from archive.exceptions import ArchiveError

__all__ = ["WACZ_VERSION", "WaczError", "WaczSummary", "cited_pages", "post_pages", "write_wacz"]

WACZ_VERSION = "1.1.1"
CHUNK = 1024 * 1024
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Posts and cited pages"}


class WaczError(ArchiveError):
    """A collection could not be packaged (nothing archived, unreadable files)."""


@dataclass(frozen=True)
class WaczSummary:
    path: Path
    warc_files: int
    pages: int
    bytes: int


def iso_date(timestamp: str) -> str:
    """14-digit WARC-Date timestamp → ISO 8601 UTC, as pages.jsonl's ``ts``."""
    moment = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _manifests(collection: Collection) -> list[dict[str, Any]]:
    manifests = []
    for path in sorted(collection.manifests_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WaczError(f"cannot read manifest {path}: {exc}") from exc
        if isinstance(data, dict):
            manifests.append(data)
    return manifests


def _page(capture: dict[str, Any], title: Any, seen: set[tuple[str, str]]) -> dict[str, str] | None:
    """The pages.jsonl line of an archived capture (its final URL at its capture time), unless ``seen``."""
    url, timestamp = capture.get("final_url"), capture.get("timestamp")
    if capture.get("status") != "archived" or not url or not timestamp or (url, timestamp) in seen:
        return None
    seen.add((url, timestamp))
    page_id = hashlib.sha1(f"{timestamp}/{url}".encode()).hexdigest()[:32]
    return {"id": page_id, "url": url, "ts": iso_date(timestamp), "title": str(title or url)}


def post_pages(manifests: list[dict[str, Any]], seen: set[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """One page per archived post page (the WACZ's main page is one), titled with the post's title."""
    seen = set() if seen is None else seen
    pages = []
    for manifest in manifests:
        for post in manifest.get("posts") or []:
            if (page := _page(post.get("snapshot") or {}, post.get("title"), seen)) is not None:
                pages.append(page)
    return pages


def cited_pages(manifests: list[dict[str, Any]], seen: set[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """One page per archived citation (its final URL at its capture time), in citation order, deduplicated."""
    seen = set() if seen is None else seen
    pages = []
    for manifest in manifests:
        for post in manifest.get("posts") or []:
            for citation in post.get("citations") or []:
                if (page := _page(citation.get("capture") or {}, citation.get("anchor_text"), seen)) is not None:
                    pages.append(page)
    return pages


def _main_page(manifests: list[dict[str, Any]]) -> dict[str, str]:
    for manifest in reversed(manifests):
        for post in manifest.get("posts") or []:
            snapshot = post.get("snapshot") or {}
            if snapshot.get("status") == "archived" and snapshot.get("timestamp"):
                return {"mainPageURL": str(snapshot.get("final_url") or post["url"]), "mainPageDate": iso_date(snapshot["timestamp"])}
    return {}


def _zip64(size: int, compress: int) -> tuple[bool, int]:
    """Whether a member of ``size`` bytes needs ZIP64 sizes, and the compression to give it.

    zipfile writes a local header's ZIP64 field when told to (or when ``file_size * 1.05``
    passes the limit), but the central directory's from the real sizes: forced on a small
    member, the two disagree, and a reader that takes the data offset from the central
    directory (ReplayWeb.page's range reader does when its extra field is empty) lands in
    the local header's ZIP64 field. So decide from the exact size, by zipfile's own limit.
    """
    limit = zipfile.ZIP64_LIMIT
    if compress != zipfile.ZIP_STORED and size <= limit < size + (size >> 10) + 64:
        # Deflate could grow a member just under the limit past it (zlib's deflateBound).
        compress = zipfile.ZIP_STORED
    return size > limit, compress


def _add(archive: zipfile.ZipFile, name: str, source: IO[bytes], size: int, compress: int) -> dict[str, Any]:
    """Copy the ``size`` bytes of ``source`` into the zip as ``name``; describe it as a datapackage resource."""
    zip64, compress = _zip64(size, compress)
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = compress
    # info.file_size stays 0 so that zipfile's own guess cannot add ZIP64 to the local header only.
    digest = hashlib.sha256()
    left = size
    with archive.open(info, "w", force_zip64=zip64) as target:
        while left and (chunk := source.read(min(CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
            target.write(chunk)
    if left or source.read(1):
        raise WaczError(f"{name} changed size while it was being packaged: export again")
    return {"name": Path(name).name, "path": name, "hash": f"sha256:{digest.hexdigest()}", "bytes": size}


def _add_file(archive: zipfile.ZipFile, name: str, path: Path, compress: int) -> dict[str, Any]:
    with path.open("rb") as source:
        return _add(archive, name, source, os.fstat(source.fileno()).st_size, compress)


def _add_bytes(archive: zipfile.ZipFile, name: str, data: bytes, compress: int) -> dict[str, Any]:
    return _add(archive, name, io.BytesIO(data), len(data), compress)


def write_wacz(collection: Collection, dest: Path, title: str | None = None) -> WaczSummary:
    """Write ``dest`` atomically. WARCs are stored, not deflated (spec: ZIP_STORED, seekable)."""
    warcs = sorted(p for p in collection.archive_dir.glob("*.warc*") if p.name.endswith((".warc", ".warc.gz")))
    if not warcs or not collection.index_path.is_file():
        raise WaczError(f"collection {collection.name!r} in {collection.out} has no WARC files or no index")
    manifests = _manifests(collection)
    # The posts first: a reader opens the post, then what it cites (the spec's pages are entry points).
    seen: set[tuple[str, str]] = set()
    pages = [*post_pages(manifests, seen), *cited_pages(manifests, seen)]
    pages_jsonl = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [PAGES_HEADER, *pages])
    resources = []
    try:
        with atomic_open(dest) as handle, zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
            for warc in warcs:
                resources.append(_add_file(archive, f"archive/{warc.name}", warc, zipfile.ZIP_STORED))
            # CDXJ lines whose "filename" is relative to archive/, as the spec's index.cdx expects.
            resources.append(_add_file(archive, "indexes/index.cdx", collection.index_path, zipfile.ZIP_DEFLATED))
            resources.append(_add_bytes(archive, "pages/pages.jsonl", pages_jsonl.encode(), zipfile.ZIP_DEFLATED))
            package = {
                "profile": "data-package",
                "wacz_version": WACZ_VERSION,
                "title": title or collection.name,
                "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "software": f"citearchive {software_version()}",
                **_main_page(manifests),
                "resources": resources,
            }
            package_bytes = json.dumps(package, indent=2).encode()
            _add_bytes(archive, "datapackage.json", package_bytes, zipfile.ZIP_DEFLATED)
            digest = {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(package_bytes).hexdigest()}"}
            _add_bytes(archive, "datapackage-digest.json", json.dumps(digest, indent=2).encode(), zipfile.ZIP_DEFLATED)
    except OSError as exc:
        raise WaczError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    return WaczSummary(dest, len(warcs), len(pages), dest.stat().st_size)
