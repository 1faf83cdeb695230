"""Turn a Capture into the HTTP header blocks of WARC request/response records."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

if TYPE_CHECKING:
    from archive.capture import Capture, Headers

__all__ = [
    "HOP_BY_HOP",
    "SYNTHESIS_NOTE",
    "WireHeaders",
    "reason_phrase",
    "request_http_headers",
    "request_target",
    "response_http_headers",
]

SYNTHESIS_NOTE = (
    "HTTP header blocks are rebuilt from what the HTTP client (Twisted, under Scrapy) exposes. "
    "Synthesised: the response reason phrase (the standard phrase for the status code, as the "
    "client hides the one sent), the request line (always HTTP/1.1), the request Host header "
    "when absent, and Content-Length (set to the stored body length). "
    "Removed: Transfer-Encoding and connection-control headers (Connection, Keep-Alive, TE, "
    "Trailer, Upgrade, Proxy-Connection), because bodies are stored de-chunked. "
    "Header names are stored in the case the client normalises them to (Title-Case). "
    "Everything else is stored as received: header order, repeats and values, and the body "
    "still content-encoded (Content-Encoding kept), so WARC-Payload-Digest covers those bytes."
)

# RFC 9110 section 7.6.1 (connection-specific fields) and RFC 9112 section 6.1
# (Transfer-Encoding): they describe the hop, not the stored de-chunked message.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

# RFC 9110 section 8.6: no Content-Length on 1xx and 204; a 304 carries the
# length of the representation it refers to, which we do not know.
_NO_SYNTHETIC_LENGTH = frozenset({204, 304})

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class WireHeaders(StatusAndHeaders):  # type: ignore[misc]
    """StatusAndHeaders that serialises header values back to their original bytes.

    Capture header values are latin-1 decodings of the bytes received, so
    encoding them as latin-1 restores those bytes exactly; warcio's default
    would %-encode any non-ASCII value instead (RFC 8187 style). Values that
    are not latin-1 (real Unicode) still take warcio's path.
    """

    def to_ascii_bytes(self, filter_func: object = None) -> bytes:
        try:
            return str(self.to_str(filter_func)).encode("latin-1") + b"\r\n"
        except UnicodeEncodeError:
            return bytes(super().to_ascii_bytes(filter_func))


def reason_phrase(status: int) -> str:
    """Standard reason phrase for ``status``; empty for unknown codes (RFC 9112 section 4)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _set_length(headers: Headers, length: int) -> Headers:
    """Replace the first Content-Length in place (dropping others), or append one."""
    out: Headers = []
    seen = False
    for name, value in headers:
        if name.lower() == "content-length":
            if not seen:
                out.append((name, str(length)))
                seen = True
            continue
        out.append((name, value))
    if not seen:
        out.append(("Content-Length", str(length)))
    return out


def response_http_headers(capture: Capture) -> StatusAndHeaders:
    """The response status line and headers as stored in the WARC response record."""
    status = capture.status
    statusline = f"{status} {reason_phrase(status)}"
    headers: Headers = [(n, v) for n, v in capture.headers if n.lower() not in HOP_BY_HOP]
    has_length = any(n.lower() == "content-length" for n, _ in headers)
    no_body_status = status < 200 or status in _NO_SYNTHETIC_LENGTH
    if has_length or capture.body or not no_body_status:
        headers = _set_length(headers, len(capture.body))
    return WireHeaders(statusline, headers, protocol=capture.protocol or "HTTP/1.1")


def request_target(url: str) -> str:
    """Origin-form target (RFC 9112 section 3.2.1): path and query exactly as in ``url``."""
    without_fragment = url.split("#", 1)[0]
    parts = urlsplit(without_fragment)
    if "//" in without_fragment:
        rest = without_fragment.split("//", 1)[1][len(parts.netloc) :]
    else:
        rest = parts.path + (f"?{parts.query}" if parts.query else "")
    if not rest.startswith("/"):
        rest = "/" + rest
    return rest


def host_header(url: str) -> str:
    """Host value for ``url``: netloc minus userinfo and default port (RFC 9110 section 7.2)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default and host.endswith(f":{default}"):
        host = host[: -len(default) - 1]
    return host.removesuffix(":")


def request_http_headers(capture: Capture) -> StatusAndHeaders:
    """The request line and headers as stored in the WARC request record."""
    headers: Headers = list(capture.request_headers)
    if not any(n.lower() == "host" for n, _ in headers):
        headers.insert(0, ("Host", host_header(capture.url)))
    if capture.request_body:
        headers = _set_length(headers, len(capture.request_body))
    # warcio keeps the method in ``protocol`` for requests: "GET /path HTTP/1.1".
    return WireHeaders(
        f"{request_target(capture.url)} HTTP/1.1", headers, protocol=capture.method.upper()
    )
