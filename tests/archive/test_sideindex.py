"""Side indexes: the writer's CDXJ lines are cdxj_indexer's, and are used only for cleanly closed WARCs."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import cdxj
from archive.capture import Capture, RecordLocation
from archive.cdxj import index_warc_files, merge_into_index, record_line
from archive.dedup import PayloadOrigin
from archive.exceptions import IndexLookupError
from archive.sideindex import (
    SIDE_SUFFIX,
    index_new_files,
    move_side_file,
    read_side_file,
    side_index_dir,
    update_index,
)
from archive.writer import ArchiveWriter, recover_open_files, warc_date
from tests.archive.factories import FETCHED, gzip_capture, not_found_capture

PARTIAL = SIDE_SUFFIX + ".open"


@pytest.fixture
def side_dir(tmp_path: Path) -> Path:
    return tmp_path / "pending"


def _ct(value: str, **overrides: object) -> Capture:
    return not_found_capture(status=200, headers=[("Content-Type", value)], **overrides)


# Header values are latin-1 decodings of the bytes received (Capture.headers).
CAPTURES: list[Capture] = [
    gzip_capture(),
    not_found_capture(),
    gzip_capture(url="http://example.com/a", status=301, body=b"", headers=[("Location", "/b")]),
    gzip_capture(url="http://example.com/cut", truncated="length"),
    not_found_capture(url="http://example.com/no-type", status=200, headers=[("Server", "x")]),
    not_found_capture(url="http://example.com/no-headers", status=200, headers=[]),
    _ct("text/html ; charset=utf-8"),
    _ct(" text/plain", url="http://example.com/lead"),
    _ct("TEXT/HTML;charset=UTF-8", url="http://example.com/upper"),
    _ct("application/json;", url="http://example.com/semi"),
    _ct(";charset=x", url="http://example.com/empty-type"),
    _ct("", url="http://example.com/empty-value"),
    _ct("text/html\t; q=1", url="http://example.com/tab"),
    _ct("text/plain  ", url="http://example.com/trail"),
    _ct("text/html; charset=\xe9", url="http://example.com/latin1"),
    _ct("text/\xc3\xa9", url="http://example.com/reads-as-utf8"),
    _ct("text/html; name=\u2603", url="http://example.com/not-latin1"),
    _ct("text/html\r\nX-Injected: 1", url="http://example.com/injected"),
    _ct("text/fold\r\n ed", url="http://example.com/folded"),
    not_found_capture(
        url="http://example.com/two-types",
        headers=[("X-Odd", "  padded  "), ("Content-Type", "text/a"), ("Content-Type", "text/b")],
    ),
    not_found_capture(url="http://example.com/blank", headers=[("X-A", "a\r\n\r\nContent-Type: text/evil")]),
    not_found_capture(url="http://example.com/name-space", headers=[("X-Name ", "v"), ("Content-Type", "text/a")]),
    not_found_capture(url="http://example.com/name-lead", headers=[("X-A", "a"), (" Content-Type", "text/b")]),
    not_found_capture(url="http://example.com/name-colon", headers=[("Content-Type: text/c", "d")]),
    not_found_capture(url="http://example.com/unknown-status", status=999),
    not_found_capture(url="http://example.com/no-content", status=204, body=b"", headers=[]),
    not_found_capture(url="http://example.com/not-modified", status=304, body=b""),
    not_found_capture(url="http://example.com/http10", protocol="HTTP/1.0"),
    not_found_capture(url="http://example.com/http2", protocol="HTTP/2"),
    not_found_capture(url="http://example.com/h2", protocol="h2"),
    not_found_capture(url="http://example.com/no-protocol", protocol=""),
    not_found_capture(url="http://example.com/spaced-protocol", protocol="HTTP 1.1"),
    # Target URIs the reader rewrites, does not parse HTTP headers for, or surt rejects.
    not_found_capture(url="http://example.com/a b"),
    not_found_capture(url="<http://example.com/angle>"),
    not_found_capture(url="HTTP://EXAMPLE.COM/UPPER"),
    not_found_capture(url="ftp://example.com/file"),
    not_found_capture(url="mailto:someone@example.com"),
    not_found_capture(url="http://example.com:abc/bad-port"),
    not_found_capture(url="http://example.com:99999999/big-port"),
    not_found_capture(url="http://[::1]:80:80/two-ports"),
    not_found_capture(url="https://user:pw@Example.COM:443/Path?b=1&a=2#frag"),
    not_found_capture(url="http://example.com/%0A%E2%80%A8%zz"),
    not_found_capture(url=""),
]

RESOURCES: list[tuple[str, str]] = [
    ("urn:screenshot:http://example.com/", "image/png"),
    ("urn:dom:http://\u4f8b\u3048.jp/\u30d1\u30b9?q=\u00fc", "text/html; charset=utf-8"),
    ("http://example.com/fields", "application/warc-fields"),  # not indexed
    ("http://example.com/fields-param", "application/warc-fields; x=1"),  # indexed
    ("urn:no-type", ""),
    ("urn:lead", "  text/plain ;x"),
    ("", "text/plain"),
]


def write_everything(writer: ArchiveWriter) -> list[RecordLocation]:
    """Every kind of record ArchiveWriter writes, in several files."""
    locations = [writer.write_capture(capture) for capture in CAPTURES]
    first = locations[0]
    origin = PayloadOrigin(
        CAPTURES[0].url, warc_date(FETCHED), first.record_id, first.warc_file, first.offset, first.timestamp
    )
    for url in ("http://example.com/again", "HTTP://EXAMPLE.COM/AGAIN", "http://example.com:abc/again"):
        locations.append(writer.write_revisit(gzip_capture(url=url), origin))
    locations.append(writer.write_revisit(not_found_capture(url="http://example.com/bare", headers=[]), origin))
    for uri, mime in RESOURCES:
        locations.append(writer.write_resource(uri, mime, b"payload", concurrent_to=first.record_id))
    locations.append(writer.write_resource("urn:empty", "text/plain", b""))
    return locations


def test_side_lines_equal_cdxj_indexer(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    info = {"isPartOf": "coll", "note": "\u00fcn\u00efcode"}
    with caplog.at_level(logging.WARNING), make_writer(max_file_size=4000, side_dir=side_dir, warcinfo=info) as writer:
        write_everything(writer)
    assert "side index" not in caplog.text and "CDXJ line" not in caplog.text
    names = writer.closed_files
    assert len(names) >= 5  # rollover: several files, each with its own side index
    archive_dir = writer.directory
    for name in names:
        kept = read_side_file(archive_dir, side_dir, name)
        assert kept is not None, f"no usable side index for {name}"
        assert sorted(kept) == index_warc_files(archive_dir, [name])  # cdxj_indexer re-reading the file
        assert len(set(kept)) == len(kept)
    expected = index_warc_files(archive_dir, names)
    assert index_new_files(archive_dir, names, side_dir) == expected
    # The comparison covered what it claims to: each kind of line is there.
    fields = [json.loads(line.split(" ", 2)[2]) for line in expected]
    assert len(expected) == len(CAPTURES) + 4 + len(RESOURCES)  # a warc-fields resource is out, ""-body one in
    assert {"warc/revisit", "image/png", "", "text/\u00e9", "text/html"} <= {f.get("mime") for f in fields}
    assert any("mime" not in f for f in fields) and any("status" not in f for f in fields)
    assert {"999", "204", "304", "200", "301", "404"} <= {f.get("status") for f in fields}
    assert any(line.startswith("http://example.com:abc/") for line in expected)  # surt refused: keyed by the URL
    assert any(f["url"] == "http://example.com/a%20b" for f in fields)


def test_ordinary_records_need_no_parse(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers that read back as they are written are taken from memory (the parse is the slow path)."""

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(cdxj._LOADER, "parse_record_stream", no_parse)
    with make_writer(max_file_size=2000, side_dir=side_dir) as writer:
        first = writer.write_capture(gzip_capture())
        writer.write_capture(not_found_capture())
        writer.write_capture(not_found_capture(url="HTTP://EXAMPLE.COM/UPPER", status=204, body=b"", headers=[]))
        origin = PayloadOrigin(
            CAPTURES[0].url, warc_date(FETCHED), first.record_id, first.warc_file, first.offset, first.timestamp
        )
        writer.write_revisit(gzip_capture(url="http://example.com/again"), origin)
        writer.write_resource("urn:screenshot:http://example.com/", "image/png", b"png")
        writer.write_resource("urn:info", "application/warc-fields", b"a: b\r\n")
    monkeypatch.undo()
    for name in writer.closed_files:
        kept = read_side_file(writer.directory, side_dir, name)
        assert kept is not None and sorted(kept) == index_warc_files(writer.directory, [name])
    assert len(index_new_files(writer.directory, writer.closed_files, side_dir)) == 5


def _record(warc: WARCWriter, rec_type: str, uri: str, **kwargs: Any) -> Any:
    headers = StatusAndHeaders(
        "",
        [
            ("WARC-Type", rec_type),
            ("WARC-Date", "2024-05-06T07:08:09Z"),
            ("WARC-Target-URI", uri),
            ("WARC-Record-ID", f"<urn:uuid:{uri}>"),
        ],
        protocol="WARC/1.1",
    )
    return warc.create_warc_record(uri, rec_type, warc_headers=headers, **kwargs)


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
def test_records_archivewriter_does_not_write(tmp_path: Path, gzip: bool) -> None:
    """record_line follows cdxj_indexer for other records too: metadata, odd status lines, bare revisits."""
    path = tmp_path / ("other.warc.gz" if gzip else "other.warc")
    lines = []
    with path.open("wb") as fh:
        warc = WARCWriter(fh, gzip=gzip, warc_version="WARC/1.1")
        records = [
            _record(warc, "metadata", f"urn:meta:{mime}", warc_content_type=mime, payload=BytesIO(b"a"), length=1)
            for mime in ("application/warc-fields", "text/plain; x=1")
        ]
        records.append(_record(warc, "revisit", "http://example.com/bare-revisit"))
        for number, (statusline, protocol) in enumerate([(" 200 OK", "HTTP/1.1"), ("200 OK", ""), ("OK", "HTTP/1.1")]):
            http = StatusAndHeaders(statusline, [("Content-Type", "text/html")], protocol=protocol)
            uri = f"http://example.com/status-{number}"
            records.append(_record(warc, "response", uri, payload=BytesIO(b"body"), length=4, http_headers=http))
        records[2].rec_headers.add_header("WARC-Payload-Digest", "sha1:AAAA")  # as create_revisit_record does
        for record in records:
            offset = fh.tell()
            warc.write_record(record)
            length = fh.tell() - offset - (0 if gzip else 4)
            line = record_line(record, path.name, offset, length)
            if line is not None:
                lines.append(line)
    assert len(lines) == 5
    assert sorted(lines) == index_warc_files(tmp_path, [path.name])


def test_failed_batch_is_cut_back_and_the_side_index_still_holds(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails after warcio wrote part of it is cut off the file; the side index stays true."""
    original = WARCWriter.write_record

    def failing(self: WARCWriter, record: object, params: object = None) -> None:
        if getattr(record, "rec_type", None) == "request":
            raise ValueError("cannot encode")
        original(self, record, params)

    with make_writer(side_dir=side_dir) as writer:
        writer.write_capture(gzip_capture())
        monkeypatch.setattr(WARCWriter, "write_record", failing)
        with pytest.raises(ValueError, match="cannot encode"):
            writer.write_capture(not_found_capture())  # its response record is cut back off
        monkeypatch.setattr(WARCWriter, "write_record", original)
        writer.write_capture(gzip_capture(url="http://example.com/after"))
    (name,) = writer.closed_files
    lines = read_side_file(writer.directory, side_dir, name)
    assert lines is not None
    assert sorted(lines) == index_warc_files(writer.directory, [name])
    assert len(lines) == 2


def test_crash_leaves_partial_side_index_that_is_not_used(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, tmp_path: Path
) -> None:
    writer = make_writer(max_file_size=1500, side_dir=side_dir)
    for n in range(5):
        writer.write_capture(gzip_capture(url=f"http://example.com/{n}"))
    closed_before = list(writer.closed_files)
    assert closed_before and writer.current_file
    # What a crash leaves: both directories as they are now.
    crashed = tmp_path / "crashed"
    shutil.copytree(writer.directory, crashed / "archive")
    shutil.copytree(side_dir, crashed / "pending")
    writer.close()
    archive_dir, crashed_side = crashed / "archive", crashed / "pending"
    assert [p.name for p in crashed_side.glob(f"*{PARTIAL}")] == [f"{writer.closed_files[-1]}{PARTIAL}"]

    recovered = recover_open_files(archive_dir)
    assert recovered == [writer.closed_files[-1]]
    with ArchiveWriter(archive_dir, fsync=False, side_dir=crashed_side) as second:
        assert not list(crashed_side.glob(f"*{PARTIAL}"))  # the stale partial one went
        second.write_capture(not_found_capture())
    names = [*closed_before, *recovered, *second.closed_files]
    assert read_side_file(archive_dir, crashed_side, recovered[0]) is None
    for name in [*closed_before, *second.closed_files]:
        assert read_side_file(archive_dir, crashed_side, name) is not None
    assert index_new_files(archive_dir, names, crashed_side) == index_warc_files(archive_dir, names)


def test_partial_side_index_of_a_name_is_removed_and_ignored(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path
) -> None:
    with make_writer(side_dir=side_dir) as writer:
        writer.write_capture(gzip_capture())
    (name,) = writer.closed_files
    complete = side_dir / (name + SIDE_SUFFIX)
    complete.rename(side_dir / (name + PARTIAL))
    assert read_side_file(writer.directory, side_dir, name) is None
    assert not list(side_dir.iterdir())


@pytest.mark.parametrize(
    "damage",
    ["torn", "no-trailer", "wrong-count", "warc-grew", "warc-shrank", "not-utf8"],
)
def test_side_index_that_does_not_match_is_not_used(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, damage: str
) -> None:
    with make_writer(side_dir=side_dir) as writer:
        writer.write_capture(gzip_capture())
        writer.write_capture(not_found_capture())
    (name,) = writer.closed_files
    side, warc = side_dir / (name + SIDE_SUFFIX), writer.directory / name
    data = side.read_bytes()
    body, trailer = data[: data.rindex(b"\n", 0, -1) + 1], data[data.rindex(b"\n", 0, -1) + 1 :]
    if damage == "torn":
        side.write_bytes(data[:-5])
    elif damage == "no-trailer":
        side.write_bytes(body)
    elif damage == "wrong-count":
        side.write_bytes(body[:-20] + body[-1:] + trailer)
    elif damage == "warc-grew":
        with warc.open("ab") as fh:
            fh.write(b"\r\n")
    elif damage == "warc-shrank":
        with warc.open("r+b") as fh:
            fh.truncate(warc.stat().st_size - 1)
    else:
        side.write_bytes(b"\xff" + body[1:] + trailer)
    assert read_side_file(writer.directory, side_dir, name) is None


def test_missing_warc_is_an_error_as_before(make_writer: Callable[..., ArchiveWriter], side_dir: Path) -> None:
    with make_writer(side_dir=side_dir) as writer:
        writer.write_capture(gzip_capture())
    (name,) = writer.closed_files
    (writer.directory / name).unlink()
    assert (side_dir / (name + SIDE_SUFFIX)).exists()
    with pytest.raises(IndexLookupError, match=name):
        index_new_files(writer.directory, [name], side_dir)
    assert read_side_file(writer.directory, side_dir, f"../{name}") is None


def test_update_index_merges_then_removes_side_files(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, tmp_path: Path
) -> None:
    with make_writer(max_file_size=1500, side_dir=side_dir) as writer:
        for n in range(4):
            writer.write_capture(gzip_capture(url=f"http://example.com/{n}"))
    names = writer.closed_files
    assert len(list(side_dir.iterdir())) == len(names) > 1
    index, reference = tmp_path / "indexes" / "index.cdxj", tmp_path / "reference.cdxj"
    merge_into_index(reference, index_warc_files(writer.directory, names))
    assert update_index(index, writer.directory, names, side_dir) == 4
    assert index.read_bytes() == reference.read_bytes()
    assert not list(side_dir.iterdir())
    assert update_index(index, writer.directory, names, side_dir) == 4  # again: from the WARCs, same index
    assert index.read_bytes() == reference.read_bytes()


def test_unusable_side_dir_leaves_the_writer_working(
    make_writer: Callable[..., ArchiveWriter], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the directory would be")
    with caplog.at_level(logging.WARNING), make_writer(side_dir=blocker / "pending") as writer:
        writer.write_capture(gzip_capture())
    assert "side indexes" in caplog.text
    assert writer.side_dir is None
    assert index_new_files(writer.directory, writer.closed_files, blocker / "pending") == index_warc_files(
        writer.directory, writer.closed_files
    )


def test_side_index_dir_is_outside_what_pywb_and_globs_read(tmp_path: Path) -> None:
    index_path = tmp_path / "collections" / "c" / "indexes" / "index.cdxj"
    assert side_index_dir(index_path) == index_path.parent / "pending"


def test_move_side_file_with_its_warc(
    make_writer: Callable[..., ArchiveWriter], side_dir: Path, tmp_path: Path
) -> None:
    """A merge moving staged WARCs into a collection keeps their side indexes usable."""
    with make_writer(side_dir=side_dir) as writer:
        writer.write_capture(gzip_capture())
    (name,) = writer.closed_files
    (side_dir / f"other.warc.gz{PARTIAL}").write_bytes(b"partial")
    target_archive, target_side = tmp_path / "target" / "archive", tmp_path / "target" / "pending"
    target_archive.mkdir(parents=True)
    shutil.move(writer.directory / name, target_archive / name)
    assert move_side_file(side_dir, target_side, name)
    assert not move_side_file(side_dir, target_side, "other.warc.gz")
    assert not list(side_dir.iterdir())
    assert read_side_file(target_archive, target_side, name) == index_warc_files(target_archive, [name])
