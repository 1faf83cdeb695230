"""The render phase's own certificate authority: https is recorded by intercepting TLS with it.

One CA per run, made when the render phase starts, kept in the run's
temporary profile directory (never in the collection) and deleted with it.
Leaf certificates for each host the browser tunnels to are signed by it on
demand and cached. Chromium trusts this CA alone through
``--ignore-certificate-errors-spki-list`` (see :func:`crawler.render.browser.chromium_args`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import os
import re
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["InterceptionCA", "spki_sha256"]

_VALID_BEFORE = timedelta(days=1)  # clocks disagree a little
_VALID_FOR = timedelta(days=30)
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def spki_sha256(certificate: x509.Certificate) -> str:
    """Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's SPKI lists take it."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class InterceptionCA:
    """A self-signed CA (EC P-256) and the TLS server contexts of the hosts it signs for.

    Blocking work (key generation, signing, writing files, loading them into
    an :class:`ssl.SSLContext`) runs in a worker thread when called from the
    event loop (:meth:`server_context`); :meth:`create` runs before the loop starts.
    """

    def __init__(self, directory: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self.directory = directory
        self.key = key
        self.certificate = certificate
        # One key for every leaf (as mitmproxy does): signing a host costs no key generation.
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key_path = directory / "leaf-key.pem"
        _write_private(self._leaf_key_path, _pem_key(self._leaf_key))
        self._contexts: dict[str, asyncio.Future[ssl.SSLContext]] = {}

    @classmethod
    def create(cls, directory: Path, name: str = "citearchive render proxy CA") -> InterceptionCA:
        """A new CA, its key and certificate written (mode 0600) to ``directory``."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _VALID_BEFORE)
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(directory / "ca-key.pem", _pem_key(key))
        (directory / "ca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(directory, key, certificate)

    @property
    def spki(self) -> str:
        """The CA's SPKI hash for ``--ignore-certificate-errors-spki-list``."""
        return spki_sha256(self.certificate)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def leaf(self, host: str) -> x509.Certificate:
        """A certificate for ``host`` (a name or a literal address), signed by this CA."""
        try:
            name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            name = x509.DNSName(host)
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
            .issuer_name(self.certificate.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _VALID_BEFORE)
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.SubjectAlternativeName([name]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def _make_context(self, host: str) -> ssl.SSLContext:
        certificate = self.leaf(host)
        safe = re.sub(r"[^A-Za-z0-9.-]", "_", host)[:100] or "_"
        chain = self.directory / f"leaf-{safe}-{certificate.serial_number:x}.pem"
        # The chain (leaf, then the CA) so the browser can match the CA's SPKI.
        chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM) + self.pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain, self._leaf_key_path)
        context.set_alpn_protocols(["http/1.1"])  # the proxy speaks HTTP/1.1 only: no h2
        return context

    async def server_context(self, host: str) -> ssl.SSLContext:
        """The TLS server context presenting ``host``'s leaf certificate; made once per host, off the loop."""
        host = host.lower()
        future = self._contexts.get(host)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(None, self._make_context, host)
            self._contexts[host] = future
        try:
            return await asyncio.shield(future)
        except Exception:
            self._contexts.pop(host, None)
            raise
