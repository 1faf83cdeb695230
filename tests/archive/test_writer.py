"""Golden and round-trip tests for archive.writer and archive.recovery (gzip and plain)."""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archive.capture import RecordLocation
from archive.exceptions import WarcWriteError
from archive.wireform import SYNTHESIS_NOTE
from archive.writer import ArchiveWriter, recover_open_files
from tests.archive.factories import GZ_BODY, gzip_capture, not_found_capture, sha1_b32, warcio_check

Records = list[tuple[ArcWarcRecord, bytes, int, int]]
ID = "<urn:uuid:00000000-0000-4000-8000-{:012d}>"
URL = "http://example.com/post/1?b=2&a=1&q=x%20y"


def read_records(path: Path) -> Records:
    """(record, raw stored block payload, offset, length) for each record in ``path``."""
    out: Records = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            raw = record.raw_stream.read()
            out.append((record, raw, it.get_record_offset(), it.get_record_length()))
    return out


def read_at(path: Path, location: RecordLocation) -> tuple[ArcWarcRecord, bytes]:
    """Load the one record at ``location`` as replay does: seek, read ``length`` bytes, parse."""
    with path.open("rb") as fh:
        fh.seek(location.offset)
        chunk = fh.read(location.length)
    record = next(iter(ArchiveIterator(io.BytesIO(chunk))))
    return record, record.raw_stream.read()


@pytest.fixture
def written(
    make_writer: Callable[..., ArchiveWriter],
) -> tuple[ArchiveWriter, list[RecordLocation]]:
    with make_writer() as writer:
        locations = [
            writer.write_capture(gzip_capture()),
            writer.write_capture(not_found_capture()),
        ]
    return writer, locations


def test_golden_records(written: tuple[ArchiveWriter, list[RecordLocation]], gzip: bool) -> None:
    writer, _ = written
    suffix = ".warc.gz" if gzip else ".warc"
    name = f"citearchive-20240506070000000000-00000{suffix}"
    assert writer.closed_files == [name]
    records = read_records(writer.directory / name)
    assert [r.rec_type for r, *_ in records] == [
        "warcinfo",
        "response",
        "request",
        "response",
        "request",
    ]

    info, info_body, _, _ = records[0]
    assert info.rec_headers.get_header("WARC-Filename") == name
    assert info.rec_headers.protocol == "WARC/1.1"
    assert b"software: citearchive/" in info_body
    assert f"synthesis: {SYNTHESIS_NOTE}\r\n".encode() in info_body

    response, body, _, _ = records[1]
    assert response.rec_headers.headers == [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", ID.format(2)),
        ("WARC-Date", "2024-05-06T07:08:09.123456Z"),
        ("WARC-Target-URI", URL),
        ("WARC-IP-Address", "127.0.0.1"),
        ("WARC-Concurrent-To", ID.format(3)),
        ("WARC-Payload-Digest", "sha1:S2UJ4ZVX4VFSZRWPWWTF5LLSF3ECTABE"),
        ("WARC-Block-Digest", "sha1:ZDIQ3YJBHUPCIWJMUNJPFNOLV5Q7SBEY"),
        ("Content-Type", "application/http; msgtype=response"),
        ("Content-Length", "208"),
    ]
    assert response.http_headers.to_str() == (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Set-Cookie: a=1; Path=/\r\n"
        "Content-Encoding: gzip\r\n"
        "Set-Cookie: b=2; Path=/\r\n"
        f"Content-Length: {len(GZ_BODY)}\r\n"
    )
    assert response.http_headers.get_header("Transfer-Encoding") is None
    # Stored as sent: still gzip, and the payload digest covers those bytes.
    assert body == GZ_BODY
    assert response.rec_headers.get_header("WARC-Payload-Digest") == sha1_b32(GZ_BODY)

    request, request_body, _, _ = records[2]
    assert request.rec_headers.headers[:5] == [
        ("WARC-Type", "request"),
        ("WARC-Record-ID", ID.format(3)),
        ("WARC-Date", "2024-05-06T07:08:09.123456Z"),
        ("WARC-Target-URI", URL),
        ("WARC-Concurrent-To", ID.format(2)),
    ]
    assert request.http_headers.to_str() == (
        "GET /post/1?b=2&a=1&q=x%20y HTTP/1.1\r\n"
        "Host: example.com\r\n"
        "User-Agent: citearchive-test\r\n"
        "Accept-Encoding: gzip\r\n"
    )
    assert request_body == b""

    missing, missing_body, _, _ = records[3]
    assert missing.http_headers.statusline == "404 Not Found"
    assert missing.http_headers.get_header("Content-Length") == str(len(missing_body))
    assert missing.rec_headers.get_header("WARC-Date") == "2024-05-06T07:08:10Z"
    assert missing.rec_headers.get_header("WARC-IP-Address") is None
    assert records[4][0].rec_headers.get_header("WARC-Concurrent-To") == ID.format(4)


def test_target_uri_has_no_angle_brackets(
    written: tuple[ArchiveWriter, list[RecordLocation]],
) -> None:
    writer, _ = written
    for record, *_ in read_records(writer.directory / writer.closed_files[0])[1:]:
        uri = record.rec_headers.get_header("WARC-Target-URI")
        assert uri and not uri.startswith("<") and not uri.endswith(">")


def test_locations_read_back(
    written: tuple[ArchiveWriter, list[RecordLocation]], gzip: bool
) -> None:
    writer, locations = written
    path = writer.directory / writer.closed_files[0]
    assert locations[0] == RecordLocation(
        warc_file=writer.closed_files[0],
        offset=locations[0].offset,
        length=locations[0].length,
        record_id=ID.format(2),
        timestamp="20240506070809",
        payload_digest=sha1_b32(GZ_BODY),
        request_record_id=ID.format(3),
    )
    by_offset = {offset: length for _, _, offset, length in read_records(path)}
    for location, body in zip(locations, [GZ_BODY, b"no such page\n"], strict=True):
        assert by_offset[location.offset] == location.length
        record, payload = read_at(path, location)
        assert record.rec_headers.get_header("WARC-Record-ID") == location.record_id
        assert payload == body


def test_warcio_check_passes(written: tuple[ArchiveWriter, list[RecordLocation]]) -> None:
    writer, _ = written
    warcio_check(writer.directory / writer.closed_files[0])


def test_open_then_renamed(make_writer: Callable[..., ArchiveWriter], gzip: bool) -> None:
    writer = make_writer(fsync=True)
    assert writer.current_file is None
    location = writer.write_capture(not_found_capture(truncated="length", ip="::1"))
    name = writer.current_file
    assert name == location.warc_file
    assert (writer.directory / f"{name}.open").exists()
    assert not (writer.directory / name).exists()
    writer.close()
    writer.close()  # idempotent
    assert writer.current_file is None
    assert sorted(p.name for p in writer.directory.iterdir()) == [name]
    record = read_records(writer.directory / name)[1][0]
    assert record.rec_headers.get_header("WARC-Truncated") == "length"
    assert record.rec_headers.get_header("WARC-IP-Address") == "::1"


def test_rollover_keeps_pairs_together(make_writer: Callable[..., ArchiveWriter]) -> None:
    with make_writer(max_file_size=1500) as writer:
        locations = [writer.write_capture(gzip_capture()) for _ in range(5)]
    assert len(writer.closed_files) >= 3
    assert len(set(writer.closed_files)) == len(writer.closed_files)
    assert [loc.warc_file for loc in locations] == sorted(loc.warc_file for loc in locations)
    for name in writer.closed_files:
        path = writer.directory / name
        types = [r.rec_type for r, *_ in read_records(path)]
        assert types[0] == "warcinfo"
        assert types[1:] == ["response", "request"] * ((len(types) - 1) // 2)
        assert len(types) >= 3
        warcio_check(path)
    for location in locations:
        path = writer.directory / location.warc_file
        assert (
            read_at(path, location)[0].rec_headers.get_header("WARC-Record-ID")
            == location.record_id
        )


def crash_copy(writer: ArchiveWriter, directory: Path) -> Path:
    """What a crash would leave: a copy of the ``.open`` file as flushed so far."""
    directory.mkdir()
    source = writer.directory / f"{writer.current_file}.open"
    target = directory / source.name
    shutil.copyfile(source, target)
    writer.close()
    return target


def test_recover_torn_file(
    make_writer: Callable[..., ArchiveWriter], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = make_writer()
    first = writer.write_capture(gzip_capture())
    last = writer.write_capture(not_found_capture())
    open_path = crash_copy(writer, tmp_path / "crashed")
    name = last.warc_file
    # A crash mid-write of the last response record: its bytes stop short.
    with open_path.open("r+b") as fh:
        fh.truncate(last.offset + last.length // 2)

    with caplog.at_level(logging.INFO, logger="archive.recovery"):
        assert recover_open_files(open_path.parent) == [name]
    assert "Cut" in caplog.text
    path = open_path.parent / name
    assert not open_path.exists()
    assert path.stat().st_size == last.offset
    records = read_records(path)
    assert [r.rec_type for r, *_ in records] == ["warcinfo", "response", "request"]
    assert records[1][0].rec_headers.get_header("WARC-Record-ID") == first.record_id
    warcio_check(path)


def test_recover_drops_file_without_complete_record(tmp_path: Path, gzip: bool) -> None:
    suffix = ".warc.gz" if gzip else ".warc"
    torn = tmp_path / f"citearchive-x-00000{suffix}.open"
    torn.write_bytes(b"WARC/1.1\r\nWARC-Type: warcinfo\r\nContent-Le")
    assert recover_open_files(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_recover_cut_in_record_trailer(
    make_writer: Callable[..., ArchiveWriter], tmp_path: Path
) -> None:
    writer = make_writer()
    name = writer.write_capture(gzip_capture()).warc_file
    open_path = crash_copy(writer, tmp_path / "crashed")
    with open_path.open("r+b") as fh:
        fh.truncate(open_path.stat().st_size - 2)  # inside the gzip trailer / final CRLF
    assert recover_open_files(open_path.parent) == [name]
    types = [r.rec_type for r, *_ in read_records(open_path.parent / name)]
    assert types == ["warcinfo", "response"]
    warcio_check(open_path.parent / name)


def test_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(WarcWriteError, match="Cannot create the WARC directory"):
        ArchiveWriter(blocker / "archive")


@pytest.mark.parametrize("gzip", [True, False])
def test_a_record_that_cannot_be_written_leaves_no_half_exchange(tmp_path: Path, gzip: bool) -> None:
    writer = ArchiveWriter(tmp_path, gzip=gzip, fsync=False)
    writer.write_capture(gzip_capture())
    # The response record is written, then the request line cannot be encoded (latin-1).
    with pytest.raises(UnicodeEncodeError):
        writer.write_capture(gzip_capture(url="http://example.com/\u2603"))
    writer.write_capture(gzip_capture(url="http://example.com/after"))
    writer.close()
    (path,) = tmp_path.glob("*.warc*")
    records = read_records(path)
    kinds = [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI")) for record, *_ in records]
    assert kinds == [
        ("warcinfo", None),
        ("response", "http://example.com/post/1?b=2&a=1&q=x%20y"),
        ("request", "http://example.com/post/1?b=2&a=1&q=x%20y"),
        ("response", "http://example.com/after"),
        ("request", "http://example.com/after"),
    ]
    warcio_check(path)
