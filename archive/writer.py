"""ArchiveWriter: Capture → WARC request/response (or revisit) records, with rollover and .open → rename."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from archive import software_version
from archive.atomic import fsync_dir
from archive.capture import RecordLocation
from archive.dedup import payload_digest
from archive.exceptions import WarcWriteError
from archive.recovery import OPEN_SUFFIX, recover_open_files
from archive.sideindex import SideIndex, drop_stale_side_files
from archive.wireform import SYNTHESIS_NOTE, request_http_headers, response_http_headers

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from warcio.recordloader import ArcWarcRecord

    from archive.capture import Capture
    from archive.dedup import PayloadOrigin

__all__ = ["WARC_VERSION", "ArchiveWriter", "recover_open_files", "warc_date"]

logger = logging.getLogger(__name__)

# WARC/1.1: WARC-Date may carry fractional seconds and WARC-Target-URI has no
# angle brackets (WARC 1.1 sections 5.4 and 5.5); pywb, warcio and
# browsertrix read and write it.
WARC_VERSION = "WARC/1.1"
_FORMAT = "WARC File Format 1.1"
_CONFORMS_TO = "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
# An uncompressed record ends with two CRLFs that ArchiveIterator (and so CDXJ
# "length") does not count as part of the record (WARC 1.1 section 4).
_RECORD_TRAILER = len(b"\r\n\r\n")


def _default_record_id() -> str:
    return str(StatusAndHeadersParser.make_warc_id())


def _utc(dt: datetime) -> datetime:
    """Naive UTC datetime (naive input is taken to be UTC already)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def _warc_date(dt: datetime) -> str:
    return str(datetime_to_iso_date(_utc(dt), use_micros=True))


def warc_date(dt: datetime) -> str:
    """The WARC-Date the writer gives a record made at ``dt`` (UTC, microseconds)."""
    return _warc_date(dt)


class ArchiveWriter:
    """Owns one open WARC file at a time in ``directory`` and writes captures to it.

    Files are named ``{prefix}-{UTC YYYYMMDDHHMMSSffffff}-{serial:05d}.warc.gz``
    (``.warc`` without gzip), written as ``NAME.open`` and renamed to ``NAME``
    on :meth:`close` or rollover. Each file starts with a ``warcinfo`` record;
    each capture becomes a ``response`` then a ``request`` record, each its own
    gzip member, flushed (and fsynced when ``fsync``) after the pair, so a
    crash loses at most the pair in flight; :func:`recover_open_files` cuts such
    a torn tail at the start of the next run. The file rolls over when it has
    reached ``max_file_size`` before a pair is written, so a pair never
    straddles two files.

    Not thread-safe by design: the caller serialises calls (the crawler's WARC
    sink extension writes from a single worker). ``make_record_id`` and
    ``clock`` may be injected to pin record ids and dates in golden tests;
    record dates otherwise come from ``Capture.fetched_at``.

    With ``side_dir``, each indexed record's CDXJ line is written there as
    the record is (a :class:`~archive.sideindex.SideIndex` per file, complete
    once the file is closed), so indexing the closed files
    (:func:`~archive.sideindex.index_new_files`) reads no WARC. The writer
    owns ``side_dir`` as it owns ``directory``: it starts by removing the
    partial side indexes of files no longer being written.
    """

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "citearchive",
        max_file_size: int = 1_000_000_000,
        gzip: bool = True,
        warcinfo: dict[str, str] | None = None,
        fsync: bool = True,
        make_record_id: Callable[[], str] | None = None,
        clock: Callable[[], datetime] | None = None,
        side_dir: Path | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_file_size = max_file_size
        self.gzip = gzip
        self.warcinfo = dict(warcinfo or {})
        self.fsync = fsync
        self.make_record_id = make_record_id or _default_record_id
        self.clock = clock or (lambda: datetime.now(UTC))
        self.closed_files: list[str] = []
        self._serial = 0
        self._name: str | None = None
        self._fh: IO[bytes] | None = None
        self._warc: WARCWriter | None = None
        self._pairs_in_file = 0
        self.side_dir = Path(side_dir) if side_dir is not None else None
        self._side: SideIndex | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarcWriteError(
                f"Cannot create the WARC directory {self.directory}: {exc}; check its permissions"
            ) from exc
        if self.side_dir is not None:
            try:
                self.side_dir.mkdir(parents=True, exist_ok=True)
                drop_stale_side_files(self.side_dir, self.directory)
            except OSError as exc:
                logger.warning(
                    "Cannot use %(dir)s for side indexes (%(error)s); the index will read the WARCs",
                    {"dir": self.side_dir, "error": exc},
                )
                self.side_dir = None

    @property
    def extension(self) -> str:
        return ".warc.gz" if self.gzip else ".warc"

    @property
    def current_file(self) -> str | None:
        """Final name (without ``.open``) of the file being written, if one is open."""
        return self._name

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- files ------------------------------------------------------------

    def _next_name(self) -> str:
        stamp = _utc(self.clock()).strftime("%Y%m%d%H%M%S%f")
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}{self.extension}"
            self._serial += 1
            path = self.directory / name
            if not path.exists() and not path.with_name(name + OPEN_SUFFIX).exists():
                return name

    def _open(self) -> None:
        name = self._next_name()
        path = self.directory / (name + OPEN_SUFFIX)
        try:
            self._fh = path.open("xb")
        except OSError as exc:
            raise WarcWriteError(f"Cannot create {path}: {exc}; check the directory") from exc
        self._name = name
        self._warc = WARCWriter(self._fh, gzip=self.gzip, warc_version=WARC_VERSION)
        self._pairs_in_file = 0
        if self.side_dir is not None:
            self._side = SideIndex.start(self.side_dir, name)
        self._write_records([self._warcinfo_record(name)])
        if self.fsync:
            fsync_dir(self.directory)  # make the new .open entry itself durable
        logger.info("Opened WARC %(name)s", {"name": name})

    def _warcinfo_record(self, name: str) -> ArcWarcRecord:
        assert self._warc is not None
        info = {
            "software": f"citearchive/{software_version()}",
            "format": _FORMAT,
            "conformsTo": _CONFORMS_TO,
            "synthesis": SYNTHESIS_NOTE,
            **self.warcinfo,
        }
        # application/warc-fields: one "name: value" line per field (WARC 1.1 section 6.2).
        body = "".join(f"{k}: {' '.join(str(v).split())}\r\n" for k, v in info.items() if v)
        payload = body.encode("utf-8")
        headers = StatusAndHeaders(
            "",
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", self.make_record_id()),
                ("WARC-Date", _warc_date(self.clock())),
                ("WARC-Filename", name),
            ],
            protocol=WARC_VERSION,
        )
        return self._warc.create_warc_record(
            "", "warcinfo", payload=BytesIO(payload), length=len(payload), warc_headers=headers
        )

    def _finish(self) -> None:
        """Flush, close and rename the current file to its final name."""
        if self._fh is None or self._name is None:
            return
        name, fh, side = self._name, self._fh, self._side
        self._fh = self._warc = self._name = self._side = None
        final = self.directory / name
        try:
            fh.flush()
            if self.fsync:
                os.fsync(fh.fileno())
            size = fh.tell()
            fh.close()
            os.rename(final.with_name(name + OPEN_SUFFIX), final)
            fsync_dir(self.directory)
        except OSError as exc:
            if side is not None:
                side.abandon()
            raise WarcWriteError(
                f"Cannot finish {final}{OPEN_SUFFIX}: {exc}; "
                "recover_open_files() will repair it on the next run"
            ) from exc
        self.closed_files.append(name)
        if side is not None:
            side.commit(size)  # after the rename: a complete side index means a closed WARC
        logger.info("Closed WARC %(name)s", {"name": name})

    def close(self) -> None:
        """Close the current file (renaming it from ``.open``); the writer may be reused."""
        self._finish()

    # -- records ----------------------------------------------------------

    def _write_records(self, records: list[ArcWarcRecord]) -> list[tuple[int, int]]:
        """Write records, then flush and fsync; return (offset, length) of each."""
        assert self._fh is not None and self._warc is not None
        fh, warc = self._fh, self._warc
        start = fh.tell()
        spans: list[tuple[int, int]] = []
        try:
            for record in records:
                offset = fh.tell()
                warc.write_record(record)
                length = fh.tell() - offset
                spans.append((offset, length if self.gzip else length - _RECORD_TRAILER))
            fh.flush()
            if self.fsync:
                os.fsync(fh.fileno())
        except OSError as exc:
            self._abandon(start)
            raise WarcWriteError(
                f"Cannot write to {self._name}{OPEN_SUFFIX}: {exc}; check free disk space"
            ) from exc
        except Exception:
            # warcio may have written some records of the batch (a record that cannot be
            # encoded fails after those before it): cut them off, so an exchange is whole
            # or absent, as after a failed write.
            self._abandon(start)
            raise
        if self._side is not None:
            for record, (offset, length) in zip(records, spans, strict=True):
                self._side.add(record, offset, length)
        return spans

    def _drop_side(self) -> None:
        """Give up the current file's side index: the file will be indexed from its records."""
        if self._side is not None:
            self._side.abandon()
            self._side = None

    def _abandon(self, start: int) -> None:
        """After a failed write, cut the partial records off, or leave the file to recovery."""
        assert self._fh is not None
        try:
            self._fh.truncate(start)
            self._fh.seek(start)
            return
        except OSError:
            logger.exception(
                "Cannot truncate %(name)s; leaving it for recovery", {"name": self._name}
            )
        try:
            self._fh.close()
        except OSError:
            logger.exception("Cannot close %(name)s", {"name": self._name})
        self._drop_side()
        self._fh = self._warc = self._name = None

    def _ready_for_records(self) -> None:
        """Roll over a full file (never between the records of one exchange) and open one if needed."""
        if self._fh is not None and self._pairs_in_file and self._fh.tell() >= self.max_file_size:
            self._finish()
        if self._fh is None:
            self._open()

    def _request_record(self, capture: Capture, request_id: str, concurrent_to: str) -> ArcWarcRecord:
        """The request record of an exchange, linked to its response or revisit record."""
        assert self._warc is not None
        headers = [
            ("WARC-Type", "request"),
            ("WARC-Record-ID", request_id),
            ("WARC-Date", _warc_date(capture.fetched_at)),
            ("WARC-Target-URI", capture.url),
            ("WARC-Concurrent-To", concurrent_to),
        ]
        return self._warc.create_warc_record(
            capture.url,
            "request",
            payload=BytesIO(capture.request_body),
            length=len(capture.request_body),
            warc_headers=StatusAndHeaders("", headers, protocol=WARC_VERSION),
            http_headers=request_http_headers(capture),
        )

    def write_capture(self, capture: Capture) -> RecordLocation:
        """Write ``capture`` as a response then a request record; return the response's location."""
        self._ready_for_records()
        assert self._warc is not None and self._name is not None

        response_id = self.make_record_id()
        request_id = self.make_record_id()
        date = _warc_date(capture.fetched_at)
        # WARC-Concurrent-To both ways (WARC 1.1 section 5.7): pywb/warcio link
        # the request to the response, wget the response to the request.
        response_headers = [
            ("WARC-Type", "response"),
            ("WARC-Record-ID", response_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", capture.url),
        ]
        if capture.ip:
            response_headers.append(("WARC-IP-Address", capture.ip))
        response_headers.append(("WARC-Concurrent-To", request_id))
        if capture.truncated:
            response_headers.append(("WARC-Truncated", capture.truncated))

        # The payload digest is computed here by warcio over the body bytes as
        # given: de-chunked but still content-encoded (no decoding happens).
        response = self._warc.create_warc_record(
            capture.url,
            "response",
            payload=BytesIO(capture.body),
            length=len(capture.body),
            warc_headers=StatusAndHeaders("", response_headers, protocol=WARC_VERSION),
            http_headers=response_http_headers(capture),
        )
        request = self._request_record(capture, request_id, concurrent_to=response_id)
        name = self._name
        (offset, length), _ = self._write_records([response, request])
        self._pairs_in_file += 1
        digest = response.rec_headers.get_header("WARC-Payload-Digest")
        return RecordLocation(
            warc_file=name,
            offset=offset,
            length=length,
            record_id=response_id,
            timestamp=_utc(capture.fetched_at).strftime("%Y%m%d%H%M%S"),
            payload_digest=str(digest) if digest else None,
            request_record_id=request_id,
        )

    def write_revisit(self, capture: Capture, refers_to: PayloadOrigin) -> RecordLocation:
        """Write ``capture`` as a ``revisit`` record (no payload) then its request record.

        For a capture whose payload digest equals that of an earlier response
        (``refers_to``): the WARC 1.1 identical-payload-digest profile (WARC 1.1
        section 6.7.2) keeps the new HTTP headers and drops the payload; replay
        (pywb) takes the payload from the record named by WARC-Refers-To-Target-URI
        and WARC-Refers-To-Date. The returned location is the revisit record's.
        """
        digest = payload_digest(capture.body)
        self._ready_for_records()
        assert self._warc is not None and self._name is not None

        revisit_id = self.make_record_id()
        request_id = self.make_record_id()
        date = _warc_date(capture.fetched_at)
        warc_headers = {"WARC-Record-ID": revisit_id, "WARC-Date": date}
        if capture.ip:
            warc_headers["WARC-IP-Address"] = capture.ip
        warc_headers["WARC-Concurrent-To"] = request_id
        warc_headers["WARC-Refers-To"] = refers_to.record_id
        revisit = self._warc.create_revisit_record(
            capture.url,
            digest,
            refers_to.url,
            refers_to.date,
            http_headers=response_http_headers(capture),
            warc_headers_dict=warc_headers,
        )
        request = self._request_record(capture, request_id, concurrent_to=revisit_id)
        name = self._name
        (offset, length), (_, request_length) = self._write_records([revisit, request])
        self._pairs_in_file += 1
        return RecordLocation(
            warc_file=name,
            offset=offset,
            length=length,
            record_id=revisit_id,
            timestamp=_utc(capture.fetched_at).strftime("%Y%m%d%H%M%S"),
            payload_digest=digest,
            request_record_id=request_id,
            revisit_of=refers_to.as_dict(),
            request_length=request_length,
        )

    def write_resource(
        self,
        target_uri: str,
        content_type: str,
        payload: bytes,
        *,
        created_at: datetime | None = None,
        concurrent_to: str | None = None,
    ) -> RecordLocation:
        """Write ``payload`` as one ``resource`` record (WARC 1.1 section 6.4); return its location.

        For what the crawler made rather than received, e.g. a screenshot
        (``urn:screenshot:URL``, ``image/png``) or a rendered DOM. The record
        carries no HTTP headers: ``Content-Type`` is ``content_type`` and the
        block is the payload. ``concurrent_to`` names the record of the same
        capture event (WARC-Concurrent-To, WARC 1.1 section 5.7), e.g. the
        page's response record.
        """
        self._ready_for_records()
        assert self._warc is not None and self._name is not None

        record_id = self.make_record_id()
        when = created_at or self.clock()
        warc_headers = [
            ("WARC-Type", "resource"),
            ("WARC-Record-ID", record_id),
            ("WARC-Date", _warc_date(when)),
            ("WARC-Target-URI", target_uri),
        ]
        if concurrent_to:
            warc_headers.append(("WARC-Concurrent-To", concurrent_to))
        record = self._warc.create_warc_record(
            target_uri,
            "resource",
            payload=BytesIO(payload),
            length=len(payload),
            warc_content_type=content_type,
            warc_headers=StatusAndHeaders("", warc_headers, protocol=WARC_VERSION),
        )
        name = self._name
        ((offset, length),) = self._write_records([record])
        self._pairs_in_file += 1
        digest = record.rec_headers.get_header("WARC-Payload-Digest")
        return RecordLocation(
            warc_file=name,
            offset=offset,
            length=length,
            record_id=record_id,
            timestamp=_utc(when).strftime("%Y%m%d%H%M%S"),
            payload_digest=str(digest) if digest else None,
        )
