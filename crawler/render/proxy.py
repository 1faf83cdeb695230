"""The recording forward proxy in the browser's path: each exchange, http or https, is archived as received."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archive.capture import Capture
from archive.wireform import HOP_BY_HOP, reason_phrase, request_target
from crawler.ssrf import (
    forbidden_reason,
    is_localhost_name,
    parse_literal_host,
    refusal_message,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from archive.capture import Headers, RecordLocation
    from crawler.render.tlsca import InterceptionCA

logger = logging.getLogger(__name__)

__all__ = ["REFUSED_HEADER", "Exchange", "PageGate", "ProxyPolicy", "RecordingProxy"]

#: Set on the answers the proxy makes up itself (refusals, failures); never archived.
REFUSED_HEADER = "X-Citearchive-Refused"
# What the browser may not decide for the upstream hop: connection control (RFC 9110
# section 7.6.1), proxy credentials, and encodings warcio and pywb cannot decode (br, zstd).
_NOT_FORWARDED = HOP_BY_HOP | {"proxy-authorization", "proxy-authenticate", "accept-encoding"}
ACCEPT_ENCODING = "gzip, deflate"
_HEAD_LIMIT = 256 * 1024  # request or response line plus headers
_IDLE_TIMEOUT = 120.0  # a browser connection with no request for this long is closed
_HANDSHAKE_TIMEOUT = 30.0  # TLS handshake with the browser, inside a CONNECT tunnel


class PageGate:
    """The URLs the browser's pages asked for: the proxy forwards those and nothing else.

    Chromium makes requests of its own (component and extension updates,
    account checks) whatever its flags say; they must neither leave the
    machine nor land in the WARC. The render phase calls :meth:`expect` from
    playwright's ``request`` event of the browser context (pages, frames,
    workers); the proxy waits a moment for that event, which can arrive just
    after the request itself.
    """

    def __init__(self, wait: float = 5.0) -> None:
        self.wait = wait
        self._expected: dict[str, asyncio.Event] = {}
        self._origins: dict[str, asyncio.Event] = {}

    def _event(self, url: str) -> asyncio.Event:
        return self._expected.setdefault(url.split("#", 1)[0], asyncio.Event())

    def expect(self, url: str) -> None:
        self._event(url).set()
        if (origin := _origin(url)) is not None:
            self._origins.setdefault(origin, asyncio.Event()).set()

    async def admits_origin(self, origin: str) -> bool:
        """Whether a page asked for a URL of ``origin`` (``https://host[:port]``): a tunnel may open to it."""
        event = self._origins.setdefault(origin, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), self.wait)
        except TimeoutError:
            if not event.is_set():
                self._origins.pop(origin, None)
            return False
        return True

    async def admits(self, url: str) -> bool:
        try:
            await asyncio.wait_for(self._event(url).wait(), self.wait)
        except TimeoutError:
            self._expected.pop(url.split("#", 1)[0], None)
            return False
        return True


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, lower-cased, without its default port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return _origin_of(scheme, parts.hostname, port or (443 if scheme == "https" else 80))


def _origin_of(scheme: str, host: str, port: int) -> str:
    host = host.lower().strip("[]")
    netloc = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{netloc}" if port == default else f"{scheme}://{netloc}:{port}"


def _authority(target: str) -> tuple[str, int]:
    """Host and port of a CONNECT target (authority-form, RFC 9112 section 3.2.3)."""
    parts = urlsplit("//" + target)
    port = parts.port  # ValueError when not a number in range
    if not parts.hostname or port is None or parts.username is not None or parts.path:
        raise ValueError(f"not an authority: {target[:100]!r}")
    return parts.hostname, port


class Refused(Exception):
    """The request is not forwarded: the reason is the message."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class ProxyPolicy:
    """The crawl's limits, applied to every browser request."""

    allow_private: bool = False
    max_size: int = 50 * 1024 * 1024  # largest body archived (DOWNLOAD_MAXSIZE)
    timeout: float = 30.0  # seconds per exchange (DOWNLOAD_TIMEOUT)
    verify_certificates: bool = False  # upstream https, as the crawl (DOWNLOAD_VERIFY_CERTIFICATES)


@dataclass(frozen=True, slots=True)
class Exchange:
    """What became of one browser request: archived (``location``) or not (``reason``)."""

    url: str
    location: RecordLocation | None = None
    status: int | None = None
    reason: str | None = None


@dataclass(slots=True)
class _Request:
    method: str
    target: str
    headers: Headers
    body: bytes = b""
    keep_alive: bool = True


@dataclass(frozen=True, slots=True)
class _Tunnel:
    """An intercepted CONNECT: where its requests go (the address the guard checked)."""

    host: str
    port: int
    ip: str

    @property
    def origin(self) -> str:
        return _origin_of("https", self.host, self.port)


@dataclass(slots=True)
class _Response:
    protocol: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    truncated: str | None = None


def _parse_head(head: bytes) -> tuple[str, Headers]:
    """First line and ``(name, value)`` headers, as latin-1 text (RFC 9112 section 5)."""
    lines = head.decode("latin-1").split("\r\n")
    headers: Headers = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding (RFC 9112 section 5.2)
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _header(headers: Headers, name: str) -> str | None:
    name = name.lower()
    return next((v for n, v in headers if n.lower() == name), None)


def _error(status: int, reason: str) -> bytes:
    body = f"citearchive render proxy: {reason}\n".encode()
    return (
        f"HTTP/1.1 {status} {reason_phrase(status)}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"{REFUSED_HEADER}: {' '.join(reason.split())[:300]}\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n\r\n"
    ).encode("latin-1", "replace") + body


class RecordingProxy:
    """An HTTP/1.1 forward proxy on 127.0.0.1 that archives every exchange it forwards.

    Each request the browser sends (absolute-form, RFC 9112 section 3.2.2) is
    checked by the SSRF guard on the address it resolves to, forwarded to that
    very address with ``Accept-Encoding: gzip, deflate``, and its response read
    whole: status line, headers in order with repeats, body de-chunked but
    still content-encoded. That exchange becomes an
    :class:`archive.capture.Capture`, handed to ``write`` (which returns where
    its records landed) before the browser gets the response. Bodies over
    ``max_size`` are not archived (the browser gets a 502).

    ``CONNECT host:port`` (https) is intercepted when a ``ca`` is given: the
    gate must have seen a page request for that origin, the SSRF guard checks
    the address ``host`` resolves to, then the proxy answers 200, takes the
    browser's TLS handshake with a leaf certificate for ``host`` signed by
    ``ca`` (ALPN ``http/1.1`` only) and treats each decrypted request like a
    plain one, as ``https://host[:port]/path?query``, forwarded over TLS to the
    checked address. Without a ``ca``, ``CONNECT`` is refused with 501.
    """

    def __init__(
        self,
        write: Callable[[Capture], Awaitable[RecordLocation]],
        policy: ProxyPolicy,
        gate: PageGate | None = None,
        ca: InterceptionCA | None = None,
    ) -> None:
        self.write = write
        self.policy = policy
        self.gate = gate
        self.ca = ca
        self.exchanges: list[Exchange] = []
        self._upstream_tls: ssl.SSLContext | None = None
        if ca is not None:
            self._client_tls()  # reads the system's CA bundle: before the event loop needs it
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on an ephemeral port of 127.0.0.1; return the port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_HEAD_LIMIT)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def archived(self, url: str) -> Exchange | None:
        """The last archived exchange for ``url``."""
        return next((e for e in reversed(self.exchanges) if e.url == url and e.location), None)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` was not archived, when the proxy knows: its own refusal, or its tunnel's."""
        candidates = {url.split("#", 1)[0]}
        if url.lower().startswith("https:") and (origin := _origin(url)) is not None:
            candidates.add(origin + "/")  # a refused CONNECT is recorded for its origin
        return next((e.reason for e in reversed(self.exchanges) if e.url in candidates and e.reason), None)

    # -- the browser's side -------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                if request.method == "CONNECT":
                    tunnel = await self._open_tunnel(request, writer)
                    if tunnel is not None:
                        await self._serve_requests(reader, writer, tunnel)
                    return
                if not await self._answer(request, writer):
                    return
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return  # ConnectionError and ssl.SSLError are OSErrors
        except asyncio.CancelledError:
            # close() ends this connection's task; asyncio's stream callback would log it as an error.
            return
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _answer(self, request: _Request, writer: asyncio.StreamWriter, tunnel: _Tunnel | None = None) -> bool:
        """Forward ``request`` (if a page asked for it) and answer the browser; whether to read another."""
        url = request.target if tunnel is None else tunnel.origin + request.target
        if self.gate is not None and not await self.gate.admits(url):
            # Not asked for by a page: the browser's own traffic. Neither sent nor archived.
            logger.debug("Render proxy refused the browser's own request %(target)s", {"target": url})
            writer.write(_error(403, "not requested by a page being rendered"))
        else:
            writer.write(await self._forward(request, tunnel))
        await writer.drain()
        return request.keep_alive

    async def _serve_requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tunnel: _Tunnel) -> None:
        """The decrypted requests of one tunnel, in origin-form, until the browser closes it."""
        while True:
            request = await self._read_request(reader)
            if request is None:
                return
            if not request.target.startswith("/"):
                # Absolute-form inside the tunnel is allowed only for the tunnel's own origin.
                if _origin(request.target) != tunnel.origin:
                    writer.write(_error(400, f"not a request for {tunnel.origin}: {request.target[:100]!r}"))
                    await writer.drain()
                    return
                request.target = request_target(request.target)
            if request.method == "CONNECT" or not await self._answer(request, writer, tunnel):
                return

    async def _open_tunnel(self, request: _Request, writer: asyncio.StreamWriter) -> _Tunnel | None:
        """Answer ``CONNECT`` and take the browser's TLS handshake; None when refused."""
        try:
            host, port = _authority(request.target)
        except ValueError:
            writer.write(_error(400, f"CONNECT needs host:port, not {request.target[:100]!r}"))
            await writer.drain()
            return None
        origin = _origin_of("https", host, port)
        if self.ca is None:
            reason = f"https is not recorded (CONNECT {request.target} refused): the proxy has no CA to intercept TLS"
            self.exchanges.append(Exchange(origin + "/", reason=reason))
            writer.write(_error(501, reason))
            await writer.drain()
            return None
        if self.gate is not None and not await self.gate.admits_origin(origin):
            # The browser's own traffic: not even its name is looked up.
            logger.debug("Render proxy refused the browser's own tunnel to %(target)s", {"target": request.target})
            writer.write(_error(403, "not requested by a page being rendered"))
            await writer.drain()
            return None
        try:
            ip = await self._resolve(host, port)
        except Refused as exc:
            self._failed(origin + "/", str(exc))
            writer.write(_error(exc.status, str(exc)))
            await writer.drain()
            return None
        context = await self.ca.server_context(host)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await writer.start_tls(context, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT)
        return _Tunnel(host.lower(), port, ip)

    async def _read_request(self, reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IDLE_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError):
            return None
        line, headers = _parse_head(head)
        method, _, rest = line.partition(" ")
        target, _, version = rest.rpartition(" ")
        length = int(_header(headers, "Content-Length") or 0)
        if length < 0 or length > self.policy.max_size:
            raise ValueError("request body too large")
        body = await reader.readexactly(length) if length else b""
        connection = (_header(headers, "Proxy-Connection") or _header(headers, "Connection") or "").lower()
        keep_alive = "close" not in connection and version.upper() != "HTTP/1.0"
        return _Request(method.upper(), target, headers, body, keep_alive)

    async def _forward(self, request: _Request, tunnel: _Tunnel | None = None) -> bytes:
        url = request.target if tunnel is None else tunnel.origin + request.target
        fetched_at = datetime.now(UTC)
        try:
            if tunnel is None:
                parts = urlsplit(url)
                if parts.scheme.lower() != "http" or not parts.hostname:
                    raise Refused(f"only absolute http:// targets are proxied, not {url[:100]!r}", 400)
                port = parts.port or 80
                ip = await self._resolve(parts.hostname, port)
                tls_name = None
            else:
                ip, port, tls_name = tunnel.ip, tunnel.port, tunnel.host  # the address the guard checked
            sent = self._upstream_headers(request.headers)
            response = await asyncio.wait_for(
                self._fetch(ip, port, request.method, request_target(url), sent, request.body, tls_name),
                self.policy.timeout,
            )
        except Refused as exc:
            self._failed(url, str(exc))
            return _error(exc.status, str(exc))
        except TimeoutError:
            reason = f"no complete answer within {self.policy.timeout:g} s"
            self._failed(url, reason)
            return _error(504, reason)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            reason = f"the exchange failed: {exc or type(exc).__name__}"
            self._failed(url, reason)
            return _error(502, reason)
        capture = Capture(
            url=url,
            method=request.method,
            status=response.status,
            protocol=response.protocol,
            headers=response.headers,
            body=response.body,
            request_headers=sent,
            request_body=request.body,
            fetched_at=fetched_at,
            ip=ip,
            truncated=response.truncated,
        )
        location = await self.write(capture)
        self.exchanges.append(Exchange(url, location, response.status))
        return self._to_browser(request.method, response)

    def _failed(self, url: str, reason: str) -> None:
        logger.warning("Render proxy did not archive %(url)s: %(reason)s", {"url": url, "reason": reason})
        self.exchanges.append(Exchange(url, reason=reason))

    @staticmethod
    def _upstream_headers(headers: Headers) -> Headers:
        sent: Headers = []
        for name, value in headers:
            if name.lower() == "accept-encoding":
                sent.append((name, ACCEPT_ENCODING))
            elif name.lower() not in _NOT_FORWARDED:
                sent.append((name, value))
        if _header(sent, "Accept-Encoding") is None:
            sent.append(("Accept-Encoding", ACCEPT_ENCODING))
        return sent

    @staticmethod
    def _to_browser(method: str, response: _Response) -> bytes:
        """The response as the browser gets it: de-chunked, with its real length."""
        lines = [f"{response.protocol} {response.status} {response.reason}".rstrip()]
        skip = HOP_BY_HOP | {"content-length"}
        lines += [f"{n}: {v}" for n, v in response.headers if n.lower() not in skip]
        no_body = method == "HEAD" or response.status in (204, 304) or response.status < 200
        if method == "HEAD" and (length := _header(response.headers, "Content-Length")) is not None:
            lines.append(f"Content-Length: {length}")
        elif not no_body:
            lines.append(f"Content-Length: {len(response.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        return head if no_body else head + response.body

    # -- the server's side --------------------------------------------------

    async def _resolve(self, host: str, port: int) -> str:
        """The address to connect to, after the SSRF guard (no window between check and connect)."""
        literal = parse_literal_host(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            if is_localhost_name(host) and not self.policy.allow_private:
                raise Refused(f"{host} is a localhost name, always loopback (use --allow-private to archive it)")
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise Refused(f"DNS lookup of {host} failed: {exc}", 502) from exc
            addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refusal = ""
        for address in addresses:
            reason = None if self.policy.allow_private else forbidden_reason(
                ipaddress.ip_address(address.split("%", 1)[0])
            )
            if reason is None:
                return address
            refusal = refusal or refusal_message(host, address, reason)
        raise Refused(refusal or f"no address for {host}")

    def _client_tls(self) -> ssl.SSLContext:
        """The upstream TLS context: certificates verified only when the crawl verifies them."""
        if self._upstream_tls is None:
            context = ssl.create_default_context()
            if not self.policy.verify_certificates:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["http/1.1"])
            self._upstream_tls = context
        return self._upstream_tls

    async def _fetch(
        self, ip: str, port: int, method: str, target: str, headers: Headers, body: bytes, tls_name: str | None = None
    ) -> _Response:
        """One exchange with ``ip``; over TLS (SNI and certificate name ``tls_name``) when it is given."""
        if tls_name is None:
            reader, writer = await asyncio.open_connection(ip, port, limit=_HEAD_LIMIT)
        else:
            reader, writer = await asyncio.open_connection(
                ip, port, limit=_HEAD_LIMIT, ssl=self._client_tls(), server_hostname=tls_name.strip("[]"),
                ssl_handshake_timeout=self.policy.timeout,
            )  # fmt: skip
        try:
            # One exchange per upstream connection: the body ends at the length, the last chunk or EOF.
            lines = [f"{method} {target} HTTP/1.1", *(f"{n}: {v}" for n, v in headers), "Connection: close"]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body)
            await writer.drain()
            while True:
                line, response_headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
                protocol, _, rest = line.partition(" ")
                code, _, reason = rest.partition(" ")
                status = int(code)
                if not 100 <= status < 200 or status == 101:
                    break  # interim 1xx answers are not the response (RFC 9110 section 15.2)
            response = _Response(protocol, status, reason, response_headers, b"")
            if method != "HEAD" and status not in (204, 304) and status >= 200:
                response.body, response.truncated = await self._read_body(reader, response_headers)
            return response
        finally:
            writer.close()

    async def _read_body(self, reader: asyncio.StreamReader, headers: Headers) -> tuple[bytes, str | None]:
        cap = self.policy.max_size
        too_large = Refused(f"the body is larger than the size cap ({cap} bytes, --max-size)", 502)
        body = bytearray()
        try:
            if "chunked" in (_header(headers, "Transfer-Encoding") or "").lower():
                # RFC 9112 section 7.1: hex size, CRLF, data, CRLF; a zero size ends it.
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
                    if size == 0:
                        while (await reader.readuntil(b"\r\n")) != b"\r\n":
                            pass  # trailer fields are dropped, like Transfer-Encoding itself
                        break
                    if len(body) + size > cap:
                        raise too_large
                    body += await reader.readexactly(size)
                    await reader.readexactly(2)
            elif (length := _header(headers, "Content-Length")) is not None:
                if int(length) > cap:
                    raise too_large
                body += await reader.readexactly(int(length))
            else:
                while chunk := await reader.read(65536):
                    body += chunk
                    if len(body) > cap:
                        raise too_large
        except asyncio.IncompleteReadError as exc:
            return bytes(body) + exc.partial, "disconnect"
        return bytes(body), None

