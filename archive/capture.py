"""The plain record of one HTTP exchange, handed from the crawler to the WARC layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Capture:
    """What was exchanged with a server, as bytes and header tuples.

    ``headers`` are the response headers in the order and with the repeats the
    crawler saw them (values decoded as latin-1, as HTTP/1.1 allows); ``body``
    is the payload after transfer-decoding (de-chunked) and *before*
    content-decoding, exactly as the server sent it. ``protocol`` is the
    response's HTTP version, e.g. ``"HTTP/1.1"``. ``request_headers`` are the
    headers the crawler handed to its HTTP client. What the client hides
    (reason phrase, Host, hop-by-hop headers) is synthesised by
    :mod:`archive.wireform`, never here.
    """

    url: str
    method: str
    status: int
    protocol: str
    headers: Headers
    body: bytes
    request_headers: Headers
    request_body: bytes = b""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    ip: str | None = None
    # WARC-Truncated reason ("length", "time", "disconnect") when the body is incomplete.
    truncated: str | None = None


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a response record landed: enough for a CDXJ line or a manifest entry."""

    warc_file: str  # file name relative to the collection's archive/ dir, without ".open"
    offset: int
    length: int
    record_id: str  # "<urn:uuid:...>"
    timestamp: str  # 14 digits, UTC, from WARC-Date
    payload_digest: str | None  # "sha1:BASE32"
    request_record_id: str | None = None
    # Set for a revisit record: the earlier response whose payload it repeats.
    revisit_of: dict[str, Any] | None = None
    request_length: int | None = None  # bytes of the request record that follows
