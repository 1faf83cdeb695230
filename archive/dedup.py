"""Payload-digest deduplication: find an earlier response whose payload a new capture repeats."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.exceptions import IndexLookupError

__all__ = ["DigestIndex", "PayloadOrigin", "bare_digest", "payload_digest"]

_REVISIT_MIME = "warc/revisit"


def payload_digest(body: bytes) -> str:
    """``sha1:BASE32`` of ``body``, the form warcio writes in WARC-Payload-Digest."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def bare_digest(digest: str) -> str:
    """The digest without its ``sha1:`` label, as cdxj_indexer writes it."""
    label, sep, value = digest.partition(":")
    return value if sep and label.lower() == "sha1" else digest


@dataclass(frozen=True, slots=True)
class PayloadOrigin:
    """The earlier response record a revisit refers to (WARC 1.1 section 6.7.2)."""

    url: str  # WARC-Target-URI of the original
    date: str  # its WARC-Date, exactly as written
    record_id: str  # its WARC-Record-ID, "<urn:uuid:...>"
    warc_file: str
    offset: int
    timestamp: str  # 14 digits

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "timestamp": self.timestamp,
            "record_id": self.record_id,
            "warc_file": self.warc_file,
            "offset": self.offset,
        }


@dataclass(frozen=True, slots=True)
class _Candidate:
    url: str
    timestamp: str
    warc_file: str
    offset: int
    status: str


def read_origin(archive_dir: Path, candidate: _Candidate) -> PayloadOrigin | None:
    """The exact WARC-Date and WARC-Record-ID of the response record at ``candidate``."""
    try:
        with (archive_dir / candidate.warc_file).open("rb") as stream:
            stream.seek(candidate.offset)
            for record in ArchiveIterator(stream):
                if record.rec_type != "response":
                    return None
                headers = record.rec_headers
                return PayloadOrigin(
                    url=str(headers.get_header("WARC-Target-URI")),
                    date=str(headers.get_header("WARC-Date")),
                    record_id=str(headers.get_header("WARC-Record-ID")),
                    warc_file=candidate.warc_file,
                    offset=candidate.offset,
                    timestamp=candidate.timestamp,
                )
    except OSError:
        return None
    return None


class DigestIndex:
    """Payload digest → the responses carrying that payload, from the collection's CDXJ index.

    Only ``response`` records count as originals (never a revisit, so chains
    stay one step long, as pywb resolves them). Captures written during the
    run are added with :meth:`add`. Not thread-safe: the WARC sink calls it
    under its write lock.
    """

    def __init__(self, archive_dir: Path) -> None:
        self.archive_dir = Path(archive_dir)
        self._candidates: dict[str, list[_Candidate]] = {}
        self._origins: dict[tuple[str, str], PayloadOrigin] = {}

    def __len__(self) -> int:
        return len(self._candidates)

    def load_index(self, index_path: Path) -> None:
        """Read every response line of the CDXJ file at ``index_path`` (missing: nothing)."""
        try:
            handle = Path(index_path).open(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise IndexLookupError(f"Cannot read the index {index_path}: {exc}") from exc
        with handle:
            for line in handle:
                parts = line.rstrip("\r\n").split(" ", 2)
                if len(parts) != 3:
                    continue
                try:
                    fields = json.loads(parts[2])
                    candidate = _Candidate(
                        str(fields["url"]),
                        parts[1],
                        str(fields["filename"]),
                        int(fields["offset"]),
                        str(fields.get("status", "")),
                    )
                except (ValueError, KeyError, TypeError):
                    continue
                if fields.get("mime") == _REVISIT_MIME or not fields.get("digest"):
                    continue
                self._candidates.setdefault(bare_digest(str(fields["digest"])), []).append(candidate)

    def add(self, digest: str, origin: PayloadOrigin, status: int) -> None:
        """Remember a response written in this run."""
        key = bare_digest(digest)
        candidate = _Candidate(origin.url, origin.timestamp, origin.warc_file, origin.offset, str(status))
        self._candidates.setdefault(key, []).append(candidate)
        self._origins[(origin.warc_file, str(origin.offset))] = origin

    def find(self, digest: str, url: str, status: int) -> PayloadOrigin | None:
        """The latest earlier response with this payload digest and status, preferring the same URL.

        The status must match too: replay serves the revisit's own headers with
        the original's payload, which is only faithful for the same kind of answer.
        """
        candidates = [c for c in self._candidates.get(bare_digest(digest), []) if c.status == str(status)]
        if not candidates:
            return None
        same_url = [c for c in candidates if c.url == url]
        for candidate in sorted(same_url or candidates, key=lambda c: c.timestamp, reverse=True):
            key = (candidate.warc_file, str(candidate.offset))
            origin = self._origins.get(key)
            if origin is None:
                origin = read_origin(self.archive_dir, candidate)
                if origin is None:
                    continue
                self._origins[key] = origin
            return origin
        return None
