"""Malformed WARCs for issue 7D: one small real WARC, then truncated, bit-flipped and mis-framed copies of it."""

from __future__ import annotations

import gzip
import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.capture import Capture
from archive.dedup import PayloadOrigin
from archive.writer import ArchiveWriter
from tests.archive.factories import GZ_BODY, pinned_ids

CLOCK = datetime(2024, 5, 6, 7, 0, 0, tzinfo=UTC)
PAGES = [
    ("http://site.example/page0.html", 200, [("Content-Type", "text/html; charset=utf-8")], b"<html><body><p>Page zero text.</p></body></html>"),
    ("http://site.example/gzip.html", 200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], GZ_BODY),
    ("http://site.example/missing", 404, [("Content-Type", "text/plain")], b"no such page\n"),
]  # fmt: skip
REVISIT_URL = "http://site.example/again.html"


@dataclass(frozen=True)
class Base:
    """The pristine WARC: its bytes (gzip, one member per record), its plain form and its captures."""

    gz: bytes
    plain: bytes
    members: list[bytes]  # each record as its own (uncompressed) bytes, trailer included
    captures: list[tuple[str, str]]  # (url, 14-digit timestamp) of each response and revisit record


@dataclass(frozen=True)
class Mutant:
    category: str
    name: str  # file name, e.g. "trunc_gz-01234.warc.gz"
    data: bytes


def _capture(url: str, status: int, headers: list[tuple[str, str]], body: bytes, second: int) -> Capture:
    return Capture(
        url=url, method="GET", status=status, protocol="HTTP/1.1", headers=headers, body=body,
        request_headers=[("User-Agent", "citearchive-fuzz")], fetched_at=CLOCK.replace(second=second, microsecond=123456), ip="127.0.0.1",
    )  # fmt: skip


def write_base(directory: Path) -> Base:
    """A WARC written by ArchiveWriter with pinned ids and dates: three pairs and a revisit pair."""
    with ArchiveWriter(directory, fsync=False, make_record_id=pinned_ids(), clock=lambda: CLOCK) as writer:
        captures = []
        first = None
        for n, (url, status, headers, body) in enumerate(PAGES):
            location = writer.write_capture(_capture(url, status, headers, body, n + 1))
            captures.append((url, location.timestamp))
            first = first or location
        assert first is not None
        origin = PayloadOrigin(
            PAGES[0][0], "2024-05-06T07:00:01.123456Z", first.record_id, first.warc_file, first.offset, first.timestamp
        )
        location = writer.write_revisit(_capture(REVISIT_URL, *PAGES[0][1:], 9), origin)
        captures.append((REVISIT_URL, location.timestamp))
    gz = (directory / writer.closed_files[0]).read_bytes()
    members = _members(gz)
    return Base(gz, b"".join(members), members, captures)


def _members(gz: bytes) -> list[bytes]:
    """The decompressed gzip members of ``gz``, one per record."""
    members, rest = [], gz
    while rest:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        members.append(inflater.decompress(rest) + inflater.flush())
        rest = inflater.unused_data
    return members


def _gz(members: list[bytes]) -> bytes:
    return b"".join(gzip.compress(member, mtime=0) for member in members)


def _flip(data: bytes, rng: random.Random, flips: int) -> bytes:
    mutable = bytearray(data)
    for _ in range(flips):
        mutable[rng.randrange(len(mutable))] ^= 1 << rng.randrange(8)
    return bytes(mutable)


BOGUS_LENGTHS = [
    "", "-1", "-99999", "0", "1", "abc", "1e3", "0x10", "99999999999999999999999", "12 34", " 7", "+12",
    "\u0661\u0662",  # Arabic-Indic digits: int() takes them
    "9" * 400, "NaN", "-0", "\t", "1.5",
]  # fmt: skip


def _with_length(member: bytes, value: str | None, *, extra: str | None = None) -> bytes:
    """``member`` with its WARC Content-Length set to ``value`` (or removed), plus an optional duplicate."""
    head, sep, block = member.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")]
    if value is not None:
        lines.append(b"Content-Length: " + value.encode("utf-8"))
    if extra is not None:
        lines.append(b"Content-Length: " + extra.encode("utf-8"))
    return b"\r\n".join(lines) + sep + block


def _structural(base: Base) -> Iterator[tuple[str, bytes, str]]:
    """(category, data, extension): whole-file gzip, wrong names, bad framing, bogus headers."""
    plain, gz, members = base.plain, base.gz, base.members
    yield "whole_file_gzip", gzip.compress(plain, mtime=0), ".warc.gz"
    yield "whole_file_gzip", gzip.compress(plain, mtime=0), ".warc"
    for cut in range(10, len(gzip.compress(plain)), 97):
        yield "whole_file_gzip", gzip.compress(plain, mtime=0)[:cut], ".warc.gz"
    yield "not_gzip", plain, ".warc.gz"
    yield "not_gzip", b"", ".warc.gz"
    yield "not_gzip", b"<html><body>not a WARC</body></html>\n", ".warc.gz"
    yield "not_gzip", random.Random(1).randbytes(4096), ".warc.gz"
    yield "not_gzip", b"\x1f\x8b" + random.Random(2).randbytes(2000), ".warc.gz"
    yield "not_gzip", b"PK\x03\x04" + bytes(200), ".warc.gz"
    yield "not_gzip", b"\x00" * 5000, ".warc.gz"
    yield "not_gzip", b"\r\n" * 5000, ".warc"
    yield "not_gzip", b"A" * 2_000_000, ".warc"  # one 2 MB line, no newline
    yield "not_gzip", zlib.compress(plain), ".warc.gz"  # raw zlib, not gzip
    yield "not_gzip", gzip.compress(b"x" * 1000, mtime=0), ".warc.gz"
    # The version line: missing, wrong, or in lower case, on the first record or on every one.
    for old, new in [(b"WARC/1.1\r\n", b""), (b"WARC/1.1", b"WARC/1.0"), (b"WARC/1.1", b"WARC/0.17"),
                     (b"WARC/1.1", b"WARC/2.0"), (b"WARC/1.1", b"warc/1.1"), (b"WARC/1.1", b"HTTP/1.1"),
                     (b"WARC/1.1\r\n", b"WARC/1.1\n"), (b"WARC/1.1\r\n", b"\r\n")]:  # fmt: skip
        for scope in ("first", "all", "third"):
            edited = [m.replace(old, new, 1) if scope == "all" or (scope == "first" and i == 0) or (scope == "third" and i == 2) else m
                      for i, m in enumerate(members)]  # fmt: skip
            yield "version_line", b"".join(edited), ".warc"
            yield "version_line", _gz(edited), ".warc.gz"
    # Bogus WARC Content-Length values, record by record, plain and gzip.
    for i in range(len(members)):
        for value in [*BOGUS_LENGTHS, None, str(len(members[i]) * 3)]:
            edited = [*members[:i], _with_length(members[i], value), *members[i + 1 :]]
            yield "warc_content_length", b"".join(edited), ".warc"
            yield "warc_content_length", _gz(edited), ".warc.gz"
        edited = [*members[:i], _with_length(members[i], "10", extra="5000"), *members[i + 1 :]]
        yield "warc_content_length", b"".join(edited), ".warc"
    # Bogus HTTP Content-Length / status lines inside the response blocks (WARC framing intact).
    for old, new in [(b"HTTP/1.1 200 OK", b"HTTP/1.1 999 Weird"), (b"HTTP/1.1 200 OK", b"HTTP/9 abc"),
                     (b"HTTP/1.1 200 OK", b"garbage"), (b"HTTP/1.1 200 OK\r\n", b""),
                     (b"Content-Length: 48", b"Content-Length: 99999999"), (b"Content-Length: 48", b"Content-Length: -5"),
                     (b"Content-Type: text/html; charset=utf-8", b"Content-Type: text/html; charset=x-no-such"),
                     (b"Content-Encoding: gzip", b"Content-Encoding: br"), (b"Content-Encoding: gzip", b"Content-Encoding: deflate"),
                     (b"Content-Type: text/html\r\nContent-Encoding: gzip", b"Content-Type: text/html\r\nContent-Encoding: gzip, gzip, gzip"),
                     (b"Content-Length: 48", b"Transfer-Encoding: chunked"), (b"Content-Length: 48", b"Content-Length: 2"),
                     (b"Content-Length: 48", b"Content-Length: 48\r\nTransfer-Encoding: chunked"),
                     (b"Content-Length: 48", b"Content-Length: 48\r\nContent-Length: 4")]:  # fmt: skip
        edited = [_relength(m.replace(old, new, 1)) for m in members]
        yield "http_headers", b"".join(edited), ".warc"
        yield "http_headers", _gz(edited), ".warc.gz"
    # Header lines of the WARC header: dates, URIs, types, junk.
    for old, new in [(b"WARC-Date: 2024-05-06T07:00:01", b"WARC-Date: 2024-13-45T99:99:99"), (b"WARC-Date: 2024-05-06T07:00:01.000000Z", b"WARC-Date: yesterday"),
                     (b"WARC-Target-URI: http://site.example/page0.html", b"WARC-Target-URI: "),
                     (b"WARC-Target-URI: http://site.example/page0.html", b"WARC-Target-URI: http://site.example/" + b"x" * 100_000),
                     (b"WARC-Target-URI: http://site.example/page0.html", b"WARC-Target-URI: http://site.example/\xff\xfe page 0"),
                     (b"WARC-Target-URI: http://site.example/page0.html", b"WARC-Target-URI: file:///etc/passwd"),
                     (b"WARC-Type: response", b"WARC-Type: unknown-kind"), (b"WARC-Type: response", b"WARC-Type: "),
                     (b"WARC-Type: response\r\n", b"no colon here\r\n"), (b"WARC-Type: revisit", b"WARC-Type: response"),
                     (b"WARC-Refers-To-Target-URI: http://site.example/page0.html", b"WARC-Refers-To-Target-URI: http://site.example/again.html"),
                     (b"WARC-Refers-To-Date: 2024-05-06T07:00:01.000000Z", b"WARC-Refers-To-Date: 2024-05-06T07:00:09.000000Z")]:  # fmt: skip
        edited = [m.replace(old, new, 1) for m in members]
        yield "warc_headers", b"".join(edited), ".warc"
        yield "warc_headers", _gz(edited), ".warc.gz"
    # Gzip framing: trailing junk, empty members, a bad CRC, records merged into one member, a bomb.
    yield "gzip_framing", gz + b"trailing junk", ".warc.gz"
    yield "gzip_framing", gz + gzip.compress(b"", mtime=0), ".warc.gz"
    yield "gzip_framing", gzip.compress(b"", mtime=0) * 3 + gz, ".warc.gz"
    for i in range(1, len(members)):
        yield "gzip_framing", _gz(members[:i - 1] + [members[i - 1] + members[i]] + members[i + 1 :]), ".warc.gz"
        crc = bytearray(_gz(members[:i]))
        crc[-6] ^= 0xFF  # the CRC32 of the i-th member
        yield "gzip_framing", bytes(crc) + _gz(members[i:]), ".warc.gz"
    yield "gzip_framing", gzip.compress(members[0], mtime=0) + _bomb_member(), ".warc.gz"
    yield "gzip_framing", members[0] + _bomb_member(), ".warc"
    yield "lf_only", plain.replace(b"\r\n", b"\n"), ".warc"
    yield "lf_only", _gz([m.replace(b"\r\n", b"\n") for m in members]), ".warc.gz"
    yield "duplicated", plain * 20, ".warc"
    yield "duplicated", gz * 20, ".warc.gz"


def _relength(member: bytes) -> bytes:
    """Fix the WARC Content-Length after an edit inside the block, so only the HTTP part is bogus."""
    head, sep, rest = member.partition(b"\r\n\r\n")
    block = rest[: -4] if rest.endswith(b"\r\n\r\n") else rest
    head = re.sub(rb"Content-Length: \d+", b"Content-Length: " + str(len(block)).encode(), head, count=1)
    return head + sep + block + b"\r\n\r\n"


def _bomb_member() -> bytes:
    """A response record declaring and holding 64 MiB of zeros in one ~64 KiB gzip member."""
    size = 64 * 1024 * 1024
    head = (
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-0000000000ff>\r\n"
        "WARC-Date: 2024-05-06T07:00:30Z\r\nWARC-Target-URI: http://site.example/bomb\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {size + 19}\r\n\r\n"
        "HTTP/1.1 200 OK\r\n\r\n"
    ).encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(head)] + [compressor.compress(chunk) for _ in range(64)]
    return b"".join(parts) + compressor.compress(b"\r\n\r\n") + compressor.flush()


def mutants(base: Base, random_count: int, seed: int = 7) -> Iterator[Mutant]:
    """Every malformed input, in a fixed order: truncations at every byte, structural edits, seeded random ones."""
    serial = 0

    def make(category: str, data: bytes, ext: str) -> Mutant:
        nonlocal serial
        serial += 1
        return Mutant(category, f"{category}-{serial:06d}{ext}", data)

    for cut in range(len(base.gz)):
        yield make("truncated_gz", base.gz[:cut], ".warc.gz")
    for cut in range(len(base.plain)):
        yield make("truncated_plain", base.plain[:cut], ".warc")
    for category, data, ext in _structural(base):
        yield make(category, data, ext)
    rng = random.Random(seed)
    for n in range(random_count):
        if n % 2 == 0:
            yield make("bitflip_gz", _flip(base.gz, rng, rng.randint(1, 4)), ".warc.gz")
        else:
            yield make("bitflip_plain", _flip(base.plain, rng, rng.randint(1, 4)), ".warc")


def write_mutant(directory: Path, mutant: Mutant) -> Path:
    path = directory / mutant.name
    path.write_bytes(mutant.data)
    return path
