"""The collection's CDXJ index: SURT-keyed ``urlkey timestamp {json}`` lines, as pywb reads them."""

from __future__ import annotations

import heapq
import io
import json
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import surt

with warnings.catch_warnings():
    # cdxj-indexer imports pyamf (for AMF POST bodies), which imports setuptools' pkg_resources:
    # its deprecation warning would be every run's first line on stderr, and says nothing to a user.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    from cdxj_indexer.main import CDXJIndexer
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeadersParserException
from warcio.timeutils import iso_date_to_timestamp

from archive.atomic import atomic_open
from archive.exceptions import IndexLookupError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from warcio.recordloader import ArcWarcRecord
    from warcio.statusandheaders import StatusAndHeaders

__all__ = ["index_warc_files", "lookup", "merge_into_index", "record_line", "url_key"]

# What index_warc_files runs: cdxj_indexer's default records, and the record
# loader its ArchiveIterator builds (arc2warc, HTTP headers not verified).
# The loader keeps no state between records.
_RECORDS = frozenset(CDXJIndexer.DEFAULT_RECORDS)
_LOADER = ArcWarcRecordLoader(verify_http=False, arc2warc=True)


def url_key(url: str) -> str:
    """SURT sort key of ``url``, as cdxj_indexer and pywb compute it."""
    return str(surt.surt(url))


class _Indexer(CDXJIndexer):  # type: ignore[misc]  # untyped third-party base
    """cdxj_indexer's CDXJIndexer, keeping its record iterator so an error can say where it happened."""

    record_iter: Any = None

    def _create_record_iter(self, input_: Any) -> Any:
        self.record_iter = super()._create_record_iter(input_)
        return self.record_iter

    def failed_at(self) -> int | None:
        """Offset of the record being read when indexing failed (its gzip member's, if compressed)."""
        offset = getattr(self.record_iter, "offset", None)
        return offset if isinstance(offset, int) else None


def index_warc_files(archive_dir: Path, names: Iterable[str]) -> list[str]:
    """CDXJ lines (sorted, no trailing newline) for the WARCs ``names`` in ``archive_dir``.

    Uses cdxj_indexer's defaults (response, revisit, resource and metadata
    records; ``url mime status digest length offset filename`` fields) so the
    lines are exactly what ``cdxj-indexer --dir-root archive_dir`` writes;
    ``filename`` is relative to ``archive_dir``.
    """
    archive_dir = Path(archive_dir)
    lines: list[str] = []
    for name in names:
        out = io.StringIO()
        # What cdxj_indexer.main.write_cdx_index(out, [path], {"dir_root": ...}) does.
        indexer = _Indexer(out, [str(archive_dir / name)], dir_root=str(archive_dir))
        try:
            indexer.process_all()
        except Exception as exc:
            # AttributeError, ValueError, ArchiveLoadFailed... on malformed records: all re-raised, wrapped.
            offset = indexer.failed_at()
            where = f" (the record at offset {offset})" if offset is not None else ""
            raise IndexLookupError(
                f"Cannot index {name}{where}: {exc}; check it with `warcio check {archive_dir / name}`"
            ) from exc
        lines.extend(line for line in out.getvalue().splitlines() if line)
    return sorted(set(lines))


def _reads_back_as_is(fields: list[tuple[str, str]]) -> bool:
    """Whether header lines ``name: value`` parse back to exactly these fields.

    StatusAndHeadersParser splits lines at LF, strips their ends and the
    value's start, splits at the first colon and unfolds a line that starts
    with a space or tab into the one before.
    """
    for name, value in fields:
        if not name or name != name.strip() or ":" in name or "\n" in name:
            return False
        if value != value.strip() or "\n" in value:
            return False
    return True


def _as_written(record: ArcWarcRecord) -> tuple[str | None, StatusAndHeaders, StatusAndHeaders | None] | None:
    """WARC-Type, WARC headers and HTTP headers (or None) as read back, from memory; None if unsure.

    Exact where the header blocks read back as they are (no folding,
    stripping or re-decoding, a target URI the loader leaves alone); the
    caller parses the bytes otherwise.
    """
    warc, http = record.rec_headers, record.http_headers
    if warc.protocol not in _LOADER.WARC_TYPES or warc.statusline or not _reads_back_as_is(warc.headers):
        return None
    uri = warc.get_header("WARC-Target-URI")
    if uri is not None and (" " in uri or (uri.startswith("<") and uri.endswith(">"))):
        return None
    if http:
        protocol, statusline = http.protocol, http.statusline
        if not (protocol and statusline and http.headers_buff.isascii()):
            return None  # re-decoded line by line (UTF-8, else latin-1), or the status line moves
        if protocol != protocol.strip() or " " in protocol or statusline != statusline.strip():
            return None
        if "\n" in protocol or "\n" in statusline or not _reads_back_as_is(http.headers):
            return None
    rec_type = warc.get_header("WARC-Type")
    # ArcWarcRecordLoader.parse_record_stream and load_http_headers, for a WARC record.
    declared = warc.get_header("Content-Length")
    if declared is None:
        return None
    try:
        length = max(int(declared), 0)  # the loader takes a negative or bad length for 0
    except ValueError:
        length = 0
    if length == 0 or rec_type not in _LOADER.HTTP_RECORDS:
        return rec_type, warc, None
    if not http or uri is None:
        return None  # its payload would be parsed for HTTP headers, or the loader fails
    return rec_type, warc, (http if uri.startswith(_LOADER.HTTP_SCHEMES) else None)


def _as_read(record: ArcWarcRecord) -> tuple[str | None, StatusAndHeaders, StatusAndHeaders | None]:
    """WARC-Type, WARC headers and HTTP headers (or None) of ``record`` as ArchiveIterator reads them."""
    known = _as_written(record)
    if known is not None:
        return known
    http = record.http_headers
    head = record.rec_headers.to_bytes(encoding="utf-8")  # as warcio wrote them
    if http:
        head += http.headers_buff
    try:
        parsed = _LOADER.parse_record_stream(io.BytesIO(head), known_format=None)
    except (EOFError, ArchiveLoadFailed, StatusAndHeadersParserException) as exc:
        raise ValueError(f"the headers do not read back: {exc}") from exc
    if not http and parsed.rec_type in _LOADER.HTTP_RECORDS and parsed.length:
        raise ValueError("no HTTP headers: cdxj_indexer would parse the payload for them")
    return parsed.rec_type, parsed.rec_headers, parsed.http_headers


def _skipped_type(record: ArcWarcRecord) -> bool:
    """Whether the first WARC header reads back as a WARC-Type cdxj_indexer skips (request, warcinfo)."""
    warc = record.rec_headers
    fields = warc.headers
    if warc.protocol not in _LOADER.WARC_TYPES or warc.statusline or not fields:
        return False
    name, value = fields[0]
    if name.lower() != "warc-type" or value in _RECORDS or value != value.strip() or "\n" in value:
        return False
    return len(fields) == 1 or not fields[1][0].startswith((" ", "\t"))  # not folded into


def record_line(record: ArcWarcRecord, filename: str, offset: int, length: int) -> str | None:
    """The CDXJ line :func:`index_warc_files` gets for ``record``, which warcio just wrote.

    ``offset`` and ``length`` are the record's as ArchiveIterator counts them
    (its gzip member; in a plain file, the record without its closing
    CRLFs), ``filename`` its file's name relative to the archive directory.
    None for the records cdxj_indexer leaves out (request, warcinfo,
    ``application/warc-fields`` resources). The headers are taken as
    ArchiveIterator reads them back (it strips, unfolds, re-decodes and
    fixes the target URI): from memory where the bytes written read back
    as they are, else parsed from those bytes by the loader it uses; the
    fields are built as cdxj_indexer's defaults build them, so the line is
    byte-identical. Raises ValueError when the line needs the payload
    (no WARC-Payload-Digest; HTTP headers cdxj_indexer would look for in
    the payload): index that file with :func:`index_warc_files`.
    """
    if _skipped_type(record):
        return None  # request and warcinfo records: half of all, and not worth more
    rec_type, warc, http = _as_read(record)
    if rec_type not in _RECORDS:
        return None
    if rec_type in ("resource", "metadata") and warc.get_header("Content-Type") == "application/warc-fields":
        return None
    # cdxj_indexer's default fields, in its order; a None value leaves the field out.
    index: dict[str, str] = {}
    url = warc.get_header("WARC-Target-URI")
    if url is not None:
        index["url"] = url
    mime: str | None = None
    if rec_type == "revisit":
        mime = "warc/revisit"
    else:
        if rec_type == "response":
            mime = http.get_header("Content-Type") if http else None
        else:
            mime = warc.get_header("Content-Type")
        if mime:
            mime = CDXJIndexer.RE_SPACE.split(mime, 1)[0].strip()
    if mime is not None:
        index["mime"] = mime
    if rec_type in ("response", "revisit") and http:
        index["status"] = http.get_statuscode()
    digest = warc.get_header("WARC-Payload-Digest")
    if not digest:
        raise ValueError("no WARC-Payload-Digest: cdxj_indexer computes it from the payload")
    index["digest"] = digest
    index["length"] = str(length)
    index["offset"] = str(offset)
    index["filename"] = filename
    date = warc.get_header("WARC-Date")
    if url is None or date is None:
        raise ValueError("no WARC-Target-URI or WARC-Date")
    try:
        key = str(surt.surt(url))
    except Exception:  # noqa: BLE001 - cdxj_indexer keys the line by the URL itself then
        key = url
    return f"{key} {iso_date_to_timestamp(date)} {json.dumps(index)}"


def _read_lines(fh: IO[str]) -> Iterator[str]:
    for line in fh:
        line = line.rstrip("\r\n")
        if line:
            yield line


def merge_into_index(index_path: Path, new_lines: Iterable[str], *, presorted: bool = False) -> int:
    """Merge ``new_lines`` into the sorted index at ``index_path``; return its line count.

    A streaming merge (:func:`heapq.merge`) of the existing file with the
    sorted new lines (sorted here unless ``presorted``), dropping exact duplicates; the result replaces the file
    atomically, so a crash leaves the old index or the new one.
    """
    index_path = Path(index_path)
    # presorted: ``new_lines`` are sorted, unique and without newlines already (index_new_files).
    fresh = new_lines if presorted else sorted({line.rstrip("\r\n") for line in new_lines} - {""})
    count = 0
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        existing: IO[str] = (
            index_path.open("r", encoding="utf-8") if index_path.exists() else io.StringIO()
        )
        # The old file is closed before atomic_open replaces it.
        with atomic_open(index_path) as out, existing:
            previous: str | None = None
            for line in heapq.merge(_read_lines(existing), fresh):
                if line == previous:
                    continue
                out.write(line.encode("utf-8") + b"\n")
                previous = line
                count += 1
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexLookupError(f"Cannot update the index {index_path}: {exc}") from exc
    return count


def _line_start_at_or_after(fh: IO[bytes], pos: int) -> int:
    """Offset of the first line starting at or after ``pos``."""
    if pos == 0:
        return 0
    fh.seek(pos - 1)
    fh.readline()
    return fh.tell()


def _first_at_or_after(fh: IO[bytes], key: bytes, size: int) -> int:
    """Offset of the first line ``>= key`` (``size`` if none), by binary search on byte offsets."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        start = _line_start_at_or_after(fh, mid)
        fh.seek(start)
        line = fh.readline()
        if start >= size or line.rstrip(b"\r\n") >= key:
            hi = mid
        else:
            lo = mid + 1
    return _line_start_at_or_after(fh, lo)


def lookup(index_path: Path, url: str) -> list[dict[str, Any]]:
    """Index entries whose SURT key equals that of ``url``, oldest first.

    Binary search over byte offsets of the sorted file (as pywb's
    ``binsearch`` does): O(log n) seeks, then a scan of the matching lines.
    Each entry is the line's JSON plus ``urlkey`` and ``timestamp``.
    """
    index_path = Path(index_path)
    key = url_key(url)
    prefix = key.encode("utf-8") + b" "
    entries: list[dict[str, Any]] = []
    try:
        with index_path.open("rb") as fh:
            size = fh.seek(0, io.SEEK_END)
            fh.seek(_first_at_or_after(fh, prefix, size))
            for raw in fh:
                if not raw.startswith(prefix):
                    break
                urlkey, timestamp, data = raw.decode("utf-8").rstrip("\r\n").split(" ", 2)
                fields = json.loads(data)
                if not isinstance(fields, dict):
                    raise ValueError(f"expected a JSON object, got {data!r}")
                entries.append({"urlkey": urlkey, "timestamp": timestamp, **fields})
    except (OSError, ValueError) as exc:
        raise IndexLookupError(f"Cannot look up {url} in {index_path}: {exc}") from exc
    return entries
