"""The JavaScript pages of :mod:`tests.mocksite.jspages`, served over real TLS on 127.0.0.1 (browser mode, https)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.mocksite import jspages

#: Sent chunked, so the archived body must be the de-chunked bytes.
CHUNKED_PATHS = (jspages.DATA_PATH,)


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``host`` and its key (the site's own, unrelated to the proxy's CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "citearchive test site")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address(host))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "site-cert.pem", directory / "site-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class TLSSite:
    origin: str  # https://127.0.0.1:PORT
    received: list[tuple[str, str]] = field(default_factory=list)  # (path, Accept-Encoding)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits(self) -> int:
        with self.lock:
            return len(self.received)


@contextmanager
def serve_tls_jspages(directory: Path) -> Iterator[TLSSite]:
    """``http.server`` behind ``ssl`` on an ephemeral port of 127.0.0.1, serving the /js/ pages."""
    cert, key = self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = TLSSite("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            accept = self.headers.get("Accept-Encoding", "")
            with site.lock:
                site.received.append((self.path, accept))
            response = jspages.site_response(self.path, accept)
            if response is None:  # robots.txt and anything else
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "10")
                self.end_headers()
                self.wfile.write(b"not found\n")
                return
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            path = self.path.partition("?")[0]
            if path in CHUNKED_PATHS:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = len(response.body) // 2
                for piece in (response.body[:half], response.body[half:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # The handshake happens in the handler thread, on the first read: a stalled client blocks nothing else.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    site.origin = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="tls-jspages", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
