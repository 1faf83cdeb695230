"""The WACZ's zip layout: each local file header agrees with its central-directory entry.

Readers that fetch a WACZ by ranges (ReplayWeb.page's wabac.js) take a member's sizes and,
when its central-directory extra field is empty, its data offset from the central directory
alone (offset + 30 + name length), never reading the local header. A local header carrying a
ZIP64 field its central-directory entry lacks moves the data where such a reader does not look.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.collection import Collection
from archive.wacz import write_wacz

LOCAL = struct.Struct("<4sHHHHHIIIHH")  # APPNOTE 4.3.7, 30 bytes
CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")  # APPNOTE 4.3.12, 46 bytes
END = struct.Struct("<4sHHHHIIH")  # 4.3.16
ZIP64_LOCATOR = struct.Struct("<4sIQI")  # 4.3.15
ZIP64_END = struct.Struct("<4sQHHIIQQQQ")  # 4.3.14
ZIP64_TAG = 0x0001  # 4.5.3: sizes and offset, each present only where the 32-bit field is 0xFFFFFFFF
FULL32 = 0xFFFFFFFF


def _fields(extra: bytes) -> list[tuple[int, bytes]]:
    fields, at = [], 0
    while at + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, at)
        fields.append((tag, extra[at + 4 : at + 4 + size]))
        at += 4 + size
    return fields


def _pack(fields: list[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack("<HH", tag, len(body)) + body for tag, body in fields)


def _resolve(extra: bytes, values: list[int]) -> tuple[list[int], bytes]:
    """Values that are 0xFFFFFFFF taken from the ZIP64 field, in order; and the extra without the offset."""
    resolved, kept = list(values), []
    for tag, body in _fields(extra):
        if tag != ZIP64_TAG:
            kept.append((tag, body))
            continue
        wide = list(struct.unpack(f"<{len(body) // 8}Q", body))
        for index, value in enumerate(values):
            if value == FULL32 and wide:
                resolved[index] = wide.pop(0)
        sizes = body[: 8 * sum(1 for value in values[:2] if value == FULL32)]
        if sizes:
            kept.append((tag, sizes))  # a local header's ZIP64 field: the sizes only, never the offset
    return resolved, _pack(kept)


@dataclass(frozen=True)
class Member:
    name: str
    method: int
    size: int
    compressed: int
    data_offset: int  # computed from the central directory alone, as a range reader does


def central_directory(data: bytes) -> tuple[int, int]:
    """(entries, offset) of the central directory, from the end record or its ZIP64 form."""
    end = data.rfind(b"PK\x05\x06")
    _, _, _, _, count, _, offset, _ = END.unpack_from(data, end)
    if count == 0xFFFF or offset == FULL32:
        locator = ZIP64_LOCATOR.unpack_from(data, end - ZIP64_LOCATOR.size)
        assert locator[0] == b"PK\x06\x07"
        record = ZIP64_END.unpack_from(data, locator[2])
        assert record[0] == b"PK\x06\x06"
        count, offset = record[7], record[9]
    return count, offset


def layout(data: bytes) -> tuple[list[Member], list[str]]:
    """Every member as the central directory describes it, and each way its local header disagrees."""
    members, problems = [], []
    count, at = central_directory(data)
    for _ in range(count):
        entry = CENTRAL.unpack_from(data, at)
        assert entry[0] == b"PK\x01\x02"
        method, crc, compressed, size, name_len, extra_len, comment_len, offset = (
            entry[4], entry[7], entry[8], entry[9], entry[10], entry[11], entry[12], entry[16]
        )
        name = data[at + CENTRAL.size : at + CENTRAL.size + name_len]
        central_extra = data[at + CENTRAL.size + name_len : at + CENTRAL.size + name_len + extra_len]
        (size, compressed, offset), local_view = _resolve(central_extra, [size, compressed, offset])
        at += CENTRAL.size + name_len + extra_len + comment_len

        local = LOCAL.unpack_from(data, offset)
        l_name_len, l_extra_len = local[9], local[10]
        l_name = data[offset + LOCAL.size : offset + LOCAL.size + l_name_len]
        l_extra = data[offset + LOCAL.size + l_name_len : offset + LOCAL.size + l_name_len + l_extra_len]
        (l_size, l_compressed), _ = _resolve(l_extra, [local[8], local[7]])
        label = name.decode()
        if local[0] != b"PK\x03\x04" or l_name != name:
            problems.append(f"{label}: no local header for it at offset {offset}")
            continue
        if (local[3], local[6], l_size, l_compressed) != (method, crc, size, compressed) or local[2] & 0x08:
            problems.append(f"{label}: local method/CRC/sizes {local[3], local[6], l_size, l_compressed} != {method, crc, size, compressed}")
        if l_extra != local_view:
            problems.append(f"{label}: local extra field {l_extra.hex()} != central {central_extra.hex()} (less its offset)")
        # Where a range reader starts reading the data: the local header's length as the central
        # directory implies it (wabac.js: 30 + name length + nothing when its extra is empty).
        members.append(Member(label, method, size, compressed, offset + LOCAL.size + name_len + len(local_view)))
    return members, problems


def member_data(data: bytes, member: Member) -> bytes:
    raw = data[member.data_offset : member.data_offset + member.compressed]
    return zlib.decompress(raw, -15) if member.method == zipfile.ZIP_DEFLATED else raw


@pytest.fixture
def collection(tmp_path: Path) -> Collection:
    """Two WARC files (opaque bytes: the WACZ writer copies them), an index and a manifest citing one page."""
    collection = Collection(tmp_path / "out", "mine")
    collection.create()
    for number, size in enumerate((12_000, 3_000)):
        (collection.archive_dir / f"run-{number:05d}.warc.gz").write_bytes(os.urandom(size))
    collection.index_path.write_text('com,example)/ 20240506070809 {"url": "http://example.com/", "filename": "run-00000.warc.gz"}\n')
    capture = {"status": "archived", "final_url": "http://example.com/", "timestamp": "20240506070809"}
    post = {"url": "http://blog.example/post", "citations": [{"anchor_text": "an example", "capture": capture}]}
    collection.manifest_path("run").write_text(json.dumps({"posts": [post]}))
    return collection


def test_local_headers_agree_with_the_central_directory(collection: Collection, tmp_path: Path) -> None:
    dest = tmp_path / "mine.wacz"
    write_wacz(collection, dest)
    data = dest.read_bytes()
    members, problems = layout(data)
    assert problems == []
    with zipfile.ZipFile(dest) as archive:
        assert [m.name for m in members] == archive.namelist()
        for member in members:
            assert member_data(data, member) == archive.read(member.name), member.name
            if member.name.startswith("archive/"):
                assert member.method == zipfile.ZIP_STORED  # WACZ spec: WARCs stored, seekable
        # Nothing here needs ZIP64: no member, local header or central entry carries it.
        assert all(info.extra == b"" for info in archive.infolist())


def test_members_past_the_zip64_limit_carry_it_in_both_headers(
    collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # zipfile's own limit (2 GiB - 1), lowered so that the 12 kB WARC is "over" it and the 3 kB one
    # not, while every member after the first starts past it (a ZIP64 offset in the central entry only).
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 8_000)
    dest = tmp_path / "mine.wacz"
    write_wacz(collection, dest)
    data = dest.read_bytes()
    members, problems = layout(data)
    assert problems == []
    with zipfile.ZipFile(dest) as archive:
        for member in members:
            assert member_data(data, member) == archive.read(member.name), member.name
        extras = {info.filename: _fields(info.extra) for info in archive.infolist()}
    big, small = "archive/run-00000.warc.gz", "archive/run-00001.warc.gz"
    local_extra_len = struct.unpack_from("<H", data, 28)[0]
    assert local_extra_len == 20 and data[30 + len(big) : 32 + len(big)] == b"\x01\x00"  # sizes, in the local header
    assert [tag for tag, _ in extras[big]] == [ZIP64_TAG] and len(extras[big][0][1]) == 16
    assert [tag for tag, _ in extras[small]] == [ZIP64_TAG] and len(extras[small][0][1]) == 8  # its offset only
    assert {m.name: m.method for m in members}[big] == zipfile.ZIP_STORED


def test_a_deflated_member_just_under_the_limit_is_stored(
    collection: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deflate may grow data by a few bytes per block: a member just under the limit could come out
    # over it, with no ZIP64 field declared in its local header. Stored, its size is exact.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 20_000)
    line = 'com,example)/ 20240506070809 {"url": "http://example.com/", "filename": "run-00000.warc.gz"}\n'
    collection.index_path.write_text((line * 300)[:19_990])  # within 1/1024 + 64 bytes of the limit
    dest = tmp_path / "mine.wacz"
    write_wacz(collection, dest)
    members, problems = layout(dest.read_bytes())
    assert problems == []
    methods = {m.name: m.method for m in members}
    assert methods["indexes/index.cdx"] == zipfile.ZIP_STORED and methods["pages/pages.jsonl"] == zipfile.ZIP_DEFLATED
