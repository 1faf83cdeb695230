"""Tests for archive.cdxj: indexing real WARCs, merging, binary-search lookup."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.capture import RecordLocation
from archive.cdxj import index_warc_files, lookup, merge_into_index, url_key
from archive.exceptions import IndexLookupError
from archive.writer import ArchiveWriter
from tests.archive.factories import GZ_BODY, gzip_capture, not_found_capture, sha1_b32


@pytest.fixture
def archived(
    make_writer: Callable[..., ArchiveWriter],
) -> tuple[ArchiveWriter, list[RecordLocation]]:
    with make_writer(max_file_size=1500) as writer:
        locations = [
            writer.write_capture(not_found_capture()),
            writer.write_capture(gzip_capture()),
            writer.write_capture(gzip_capture(url="http://www.example.com/b")),
            writer.write_capture(gzip_capture(url="http://example.com/a", status=301, body=b"")),
        ]
    return writer, locations


def test_index_lines(archived: tuple[ArchiveWriter, list[RecordLocation]]) -> None:
    writer, _ = archived
    lines = index_warc_files(writer.directory, writer.closed_files)
    assert len(lines) == 4  # one per response record; requests and warcinfo are not indexed
    assert lines == sorted(lines)
    keys = [line.split(" ", 1)[0] for line in lines]
    assert keys == sorted(
        [
            "org,example)/missing",
            "com,example)/post/1?a=1&b=2&q=x%20y",
            "com,example)/b",
            "com,example)/a",
        ]
    )
    urlkey, timestamp, data = lines[-1].split(" ", 2)
    assert (urlkey, timestamp) == ("org,example)/missing", "20240506070810")
    fields = json.loads(data)
    assert fields["url"] == "https://example.org/missing"
    assert fields["status"] == "404"
    assert fields["mime"] == "text/plain"
    assert fields["filename"] in writer.closed_files  # relative to archive/, no directory part


def test_merge_is_idempotent_and_sorted(
    archived: tuple[ArchiveWriter, list[RecordLocation]], tmp_path: Path
) -> None:
    writer, _ = archived
    lines = index_warc_files(writer.directory, writer.closed_files)
    index = tmp_path / "indexes" / "index.cdxj"
    first, second = lines[::2], lines[1::2]
    assert merge_into_index(index, first) == len(first)
    assert merge_into_index(index, second) == len(lines)
    once = index.read_text(encoding="utf-8")
    assert once.splitlines() == lines
    assert merge_into_index(index, lines) == len(lines)
    assert merge_into_index(index, reversed(lines)) == len(lines)
    assert index.read_text(encoding="utf-8") == once
    assert [p.name for p in index.parent.iterdir()] == ["index.cdxj"]  # no temp files left


def test_lookup_matches_locations(
    archived: tuple[ArchiveWriter, list[RecordLocation]], tmp_path: Path
) -> None:
    writer, locations = archived
    index = tmp_path / "index.cdxj"
    merge_into_index(index, index_warc_files(writer.directory, writer.closed_files))
    (entry,) = lookup(index, "http://example.com/post/1?q=x%20y&a=1&b=2")
    location = locations[1]
    assert entry["urlkey"] == "com,example)/post/1?a=1&b=2&q=x%20y"
    assert entry["timestamp"] == location.timestamp
    assert entry["filename"] == location.warc_file
    assert int(entry["offset"]) == location.offset
    assert int(entry["length"]) == location.length
    assert entry["digest"] == location.payload_digest == sha1_b32(GZ_BODY)
    assert [e["url"] for e in lookup(index, "https://EXAMPLE.org:443/missing")] == [
        "https://example.org/missing"
    ]
    assert lookup(index, "http://example.com/nothing-here") == []
    assert lookup(index, "http://example.com/") == []  # a prefix of other keys, not a match


def test_lookup_binary_search_agrees_with_scan(tmp_path: Path) -> None:
    rng = random.Random(7)
    urls = [f"http://host{rng.randrange(40)}.example/{rng.randrange(30)}" for _ in range(600)]
    lines = [
        f"{url_key(u)} 2024010100{i % 10000:04d} {json.dumps({'url': u, 'n': i})}"
        for i, u in enumerate(urls)
    ]
    index = tmp_path / "index.cdxj"
    merge_into_index(index, lines)
    for url in [
        *set(urls[:80]),
        "http://host0.example/999",
        "http://aaa.example/",
        "http://zzz.example/",
    ]:
        expected = sorted(line for line in set(lines) if line.split(" ", 1)[0] == url_key(url))
        found = lookup(index, url)
        assert [f"{e['urlkey']} {e['timestamp']}" for e in found] == [
            " ".join(line.split(" ", 2)[:2]) for line in expected
        ]


def test_index_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.warc.gz").write_bytes(b"GET / HTTP/1.1\r\n\r\n")
    (tmp_path / "torn.warc").write_bytes(
        b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: 50\r\n\r\nab"
    )
    with pytest.raises(IndexLookupError, match=r"broken\.warc\.gz"):
        index_warc_files(tmp_path, ["broken.warc.gz"])
    with pytest.raises(IndexLookupError, match=r"torn\.warc"):
        index_warc_files(tmp_path, ["torn.warc"])
    with pytest.raises(IndexLookupError, match=r"missing\.warc\.gz"):
        index_warc_files(tmp_path, ["missing.warc.gz"])


def test_lookup_errors(tmp_path: Path) -> None:
    with pytest.raises(IndexLookupError, match=r"nope\.cdxj"):
        lookup(tmp_path / "nope.cdxj", "http://example.com/")
    bad = tmp_path / "bad.cdxj"
    bad.write_text("com,example)/ 20240101000000 {not json\n", encoding="utf-8")
    with pytest.raises(IndexLookupError, match=r"bad\.cdxj"):
        lookup(bad, "http://example.com/")
