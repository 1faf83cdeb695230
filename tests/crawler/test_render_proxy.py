"""The recording proxy of browser mode, against real servers: raw bytes, the SSRF guard, the size cap, https by TLS interception."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.writer import ArchiveWriter
from crawler.render.proxy import (
    REFUSED_HEADER,
    Exchange,
    PageGate,
    ProxyPolicy,
    RecordingProxy,
)
from crawler.render.tlsca import InterceptionCA
from tests.mocksite import jspages
from tests.mocksite.content import GZIP_HTML, PDF_BYTES
from tests.mocksite.tlsjs import TLSSite, serve_tls_jspages


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


# ------------------------------------------------------------------ https: TLS intercepted with the run's CA


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSSite]:
    with serve_tls_jspages(tmp_path_factory.mktemp("tls-site")) as site:
        yield site


def _tunnel(
    tmp_path: Path, site: TLSSite, policy: ProxyPolicy, path: str, gate: PageGate | None = None
) -> tuple[int, dict[str, str], bytes, list[Exchange], list[tuple[str, str, Any, bytes]], str]:
    """CONNECT through the proxy, TLS to it trusting only its CA (name checked), one GET ``path``."""
    ca = InterceptionCA.create(tmp_path / "tls")
    writer = ArchiveWriter(tmp_path / "archive", fsync=False)
    host_port = site.origin.removeprefix("https://")

    async def write(capture: Any) -> Any:
        return writer.write_capture(capture)

    async def main() -> tuple[int, dict[str, str], bytes, list[Exchange], str]:
        proxy = RecordingProxy(write, policy, gate, ca)
        port = await proxy.start()
        try:
            reader, stream = await asyncio.open_connection("127.0.0.1", port)
            try:
                stream.write(f"CONNECT {host_port} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode())
                await stream.drain()
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                status, headers = int(head[0].split()[1]), dict(line.split(": ", 1) for line in head[1:] if line)
                if status != 200:
                    body = await reader.readexactly(int(headers.get("Content-Length", "0")))
                    return status, headers, body, proxy.exchanges, ""
                client = ssl.create_default_context(cadata=ca.pem.decode())  # our CA alone, hostname checked
                client.set_alpn_protocols(["h2", "http/1.1"])
                await stream.start_tls(client, server_hostname="127.0.0.1")
                ssl_object = stream.get_extra_info("ssl_object")
                alpn = ssl_object.selected_alpn_protocol() or ""
                stream.write(f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\nAccept-Encoding: br\r\nConnection: close\r\n\r\n".encode())
                await stream.drain()
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in head[1:] if line)
                body = await reader.readexactly(int(headers.get("Content-Length", "0")))
                return int(head[0].split()[1]), headers, body, proxy.exchanges, alpn
            finally:
                stream.close()
        finally:
            await proxy.close()

    status, headers, body, exchanges, alpn = asyncio.run(main())
    writer.close()
    records = []
    for warc in sorted((tmp_path / "archive").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type in ("request", "response"):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    records.append((record.rec_type, uri, record.http_headers, record.raw_stream.read()))
    return status, headers, body, exchanges, records, alpn


def test_https_is_intercepted_and_archived_as_received(tls_site: TLSSite, tmp_path: Path) -> None:
    policy = ProxyPolicy(allow_private=True)
    status, headers, body, exchanges, records, alpn = _tunnel(tmp_path, tls_site, policy, jspages.DATA_PATH)
    assert alpn == "http/1.1"  # never h2, even when the browser offers it
    assert status == 200 and body == jspages.data_json() and "Transfer-Encoding" not in headers
    url = tls_site.origin + jspages.DATA_PATH
    (response_type, response_uri, _, payload), (request_type, request_uri, request_headers, _) = records
    assert (response_type, request_type) == ("response", "request")
    assert response_uri == request_uri == url
    assert payload == jspages.data_json()  # sent chunked, archived de-chunked
    assert request_headers.get_header("Accept-Encoding") == "gzip, deflate"
    assert [(e.url, e.status) for e in exchanges] == [(url, 200)]


def test_https_keeps_the_content_encoding(tls_site: TLSSite, tmp_path: Path) -> None:
    policy = ProxyPolicy(allow_private=True)
    status, headers, body, _, records, _ = _tunnel(tmp_path, tls_site, policy, jspages.SCRIPT_PATH)
    assert status == 200 and headers["Content-Encoding"] == "gzip" and body == jspages.APP_JS_GZIP
    assert records[0][1] == tls_site.origin + jspages.SCRIPT_PATH and records[0][3] == jspages.APP_JS_GZIP


def test_the_guard_refuses_an_https_tunnel_to_loopback(tls_site: TLSSite, tmp_path: Path) -> None:
    before = tls_site.hits()
    status, headers, _, exchanges, records, alpn = _tunnel(tmp_path, tls_site, ProxyPolicy(), jspages.DATA_PATH)
    assert alpn == ""  # the CONNECT itself was refused: no TLS with the browser
    assert status == 403 and "loopback" in headers[REFUSED_HEADER] and "--allow-private" in headers[REFUSED_HEADER]
    assert records == [] and [e.location for e in exchanges] == [None]
    assert tls_site.hits() == before  # nothing was sent


def test_an_unverifiable_upstream_certificate_fails_when_verification_is_on(tls_site: TLSSite, tmp_path: Path) -> None:
    before = tls_site.hits()
    policy = ProxyPolicy(allow_private=True, verify_certificates=True)  # DOWNLOAD_VERIFY_CERTIFICATES=True
    status, headers, _, exchanges, records, _ = _tunnel(tmp_path, tls_site, policy, jspages.DATA_PATH)
    assert status == 502 and "CERTIFICATE_VERIFY_FAILED" in headers[REFUSED_HEADER]
    assert records == [] and exchanges[0].location is None
    assert tls_site.hits() == before  # the handshake failed: no request reached the site


def test_tunnels_no_page_asked_for_are_refused_before_any_lookup(tls_site: TLSSite, tmp_path: Path) -> None:
    before = tls_site.hits()
    status, headers, _, exchanges, records, alpn = _tunnel(
        tmp_path, tls_site, ProxyPolicy(allow_private=True), jspages.DATA_PATH, PageGate(wait=0.2)
    )
    assert alpn == ""  # the CONNECT itself was refused: no TLS with the browser
    assert status == 403 and "not requested by a page" in headers[REFUSED_HEADER]
    assert records == [] and exchanges == [] and tls_site.hits() == before
