"""The recording proxy of browser mode, against the real mock site: raw bytes, the SSRF guard, the size cap."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archive.writer import ArchiveWriter
from crawler.render.proxy import REFUSED_HEADER, PageGate, ProxyPolicy, RecordingProxy
from tests.mocksite.content import GZIP_HTML, PDF_BYTES


async def _ask(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if line)
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        return int(lines[0].split()[1]), headers, body
    finally:
        writer.close()


def _exchange(tmp_path: Path, policy: ProxyPolicy, request: bytes, gate: PageGate | None = None) -> tuple[Any, ...]:
    writer = ArchiveWriter(tmp_path / "archive", fsync=False)

    async def write(capture: Any) -> Any:
        return writer.write_capture(capture)

    async def main() -> tuple[Any, ...]:
        proxy = RecordingProxy(write, policy, gate)
        port = await proxy.start()
        try:
            return (*await _ask(port, request), proxy.exchanges)
        finally:
            await proxy.close()

    result = asyncio.run(main())
    writer.close()
    records = []
    for path in sorted((tmp_path / "archive").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("request", "response"):
                    records.append((record.rec_type, record.http_headers, record.raw_stream.read()))
    return (*result, records)


def _get(url: str, *headers: str) -> bytes:
    lines = [f"GET {url} HTTP/1.1", "Host: " + url.split("/")[2], *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_the_guard_refuses_loopback_without_allow_private(mocksite: Any, tmp_path: Path) -> None:
    before = len(mocksite.received("sites"))
    status, headers, _, exchanges, records = _exchange(tmp_path, ProxyPolicy(), _get(mocksite.sites + "/gzip.html"))
    assert status == 403
    assert "loopback" in headers[REFUSED_HEADER] and "--allow-private" in headers[REFUSED_HEADER]
    assert [e.location for e in exchanges] == [None] and records == []
    assert len(mocksite.received("sites")) == before  # nothing was sent


def test_an_exchange_is_archived_as_received(mocksite: Any, tmp_path: Path) -> None:
    request = _get(mocksite.sites + "/gzip.html", "Accept-Encoding: gzip, deflate, br, zstd", "Proxy-Connection: keep-alive")
    status, headers, body, exchanges, records = _exchange(tmp_path, ProxyPolicy(allow_private=True), request)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert body == GZIP_HTML  # the browser gets the bytes as sent, and decodes them itself
    (response_type, response_headers, payload), (request_type, request_headers, _) = records
    assert (response_type, request_type) == ("response", "request")
    assert payload == GZIP_HTML and response_headers.get_header("Content-Encoding") == "gzip"
    assert request_headers.get_header("Accept-Encoding") == "gzip, deflate"  # never br or zstd
    assert request_headers.get_header("Proxy-Connection") is None
    assert exchanges[0].location is not None and exchanges[0].status == 200


def test_a_body_over_the_size_cap_is_not_archived(mocksite: Any, tmp_path: Path) -> None:
    policy = ProxyPolicy(allow_private=True, max_size=len(PDF_BYTES) - 1)
    status, headers, _, exchanges, records = _exchange(tmp_path, policy, _get(mocksite.sites + "/doc.pdf"))
    assert status == 502 and "size cap" in headers[REFUSED_HEADER]
    assert records == [] and exchanges[0].location is None


def test_https_tunnels_are_refused(tmp_path: Path) -> None:
    request = b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"
    status, headers, _, _, records = _exchange(tmp_path, ProxyPolicy(allow_private=True), request)
    assert status == 501 and "https" in headers[REFUSED_HEADER] and records == []


def test_requests_no_page_made_are_neither_sent_nor_archived(mocksite: Any, tmp_path: Path) -> None:
    before = len(mocksite.received("sites"))
    gate = PageGate(wait=0.2)
    status, headers, _, _, records = _exchange(
        tmp_path, ProxyPolicy(allow_private=True), _get(mocksite.sites + "/pages/plain.html"), gate
    )
    assert status == 403 and "not requested by a page" in headers[REFUSED_HEADER]
    assert records == [] and len(mocksite.received("sites")) == before
