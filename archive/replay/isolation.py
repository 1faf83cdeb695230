"""Isolation between the landing and archive origins: headers, Host and Origin checks, path traversal."""

from __future__ import annotations

import html
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger(__name__)

__all__ = [
    "ARCHIVE_CSP",
    "LANDING_HEADERS",
    "ArchiveHeaders",
    "RequestGuard",
    "cross_site_request",
    "is_traversal",
]

#: On every archive-origin response. Scripts run (wombat needs them, and so do archived pages),
#: but every fetch, image, frame and form stays on the archive origin ('self'), never the live web
#: nor the landing origin. The sandbox leaves out allow-top-navigation, so a replayed script cannot
#: send the tab elsewhere; a user's click still can.
ARCHIVE_CSP = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
    "form-action 'self'; base-uri 'self'; frame-ancestors 'self'; "
    "sandbox allow-scripts allow-same-origin allow-forms allow-popups allow-modals allow-downloads "
    "allow-top-navigation-by-user-activation"
)

#: On every landing response: nothing loads from elsewhere, it cannot be framed, it severs
#: window.opener from pages it opens, and it never sets a cookie (cookies ignore ports).
LANDING_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def cross_site_request(environ: dict[str, Any]) -> bool:
    """True when the browser says the request comes from another origin (Fetch Metadata, Origin)."""
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return bool(origin.rstrip("/").lower() != own.lower())
    return False


def is_traversal(environ: dict[str, Any]) -> bool:
    """A path with a ``..`` segment, a backslash or a NUL, decoded or raw, once or twice."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or ""
    candidates = [environ.get("PATH_INFO", ""), urlsplit(raw).path, unquote(urlsplit(raw).path)]
    candidates.append(unquote(candidates[-1]))
    for path in candidates:
        if "\\" in path or "\0" in path:
            return True
        if any(segment == ".." for segment in path.split("/")):
            return True
    return False


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class RequestGuard:
    """Refuses traversal paths and Host headers other than the server's own (DNS rebinding)."""

    def __init__(self, app: WsgiApp, allowed_hosts: set[str] | None) -> None:
        self.app = app
        self.allowed_hosts = {host.lower() for host in allowed_hosts} if allowed_hosts else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = str(environ.get("HTTP_HOST", "")).lower()
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return _plain(start_response, "421 Misdirected Request", "Unknown Host header.\n")
        if is_traversal(environ):
            return _plain(start_response, "400 Bad Request", "Path traversal refused.\n")
        return self.app(environ, start_response)


class ArchiveHeaders:
    """Puts ARCHIVE_CSP on every archive response, replacing any other policy, and drops CORS grants.

    It drops Content-Length too: on ``id_`` replay pywb passes the archived value through, and a
    truncated or hostile record declares more bytes than it holds (the client waits for bytes that
    never come) or fewer (the rest would be read as the next response on the connection). The server
    frames the body itself, chunked (RFC 9112 section 6.3). A HEAD reply, which has no body, keeps it.

    pywb's own 5xx pages (no Memento-Datetime: not an archived response) quote the exception, which
    for an unreadable record includes the first bytes of the file; they are replaced with a plain
    message and the details go to the log.
    """

    DROP = (
        "content-security-policy",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "content-length",
    )

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scrubbed: list[str] = []
        head = environ.get("REQUEST_METHOD") == "HEAD"
        drop = tuple(name for name in self.DROP if not (head and name == "content-length"))

        def isolated_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() not in drop]
            if status[:1] == "5" and not any(name.lower() == "memento-datetime" for name, _ in headers):
                scrubbed.append(status)
                kept = [(name, value) for name, value in kept if name.lower() not in ("content-type", "content-length")]
                kept.append(("Content-Type", "text/plain; charset=utf-8"))
            kept.append(("Content-Security-Policy", ARCHIVE_CSP))
            if exc_info is not None:
                return start_response(status, kept, exc_info)
            return start_response(status, kept)

        result = self.app(environ, isolated_start)
        if not scrubbed:
            return result
        try:
            details = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        logger.warning(
            "Replay error %(status)s for %(path)s: %(details)s",
            {"status": scrubbed[0], "path": environ.get("PATH_INFO", ""), "details": _error_text(details)},
        )
        return [f"{scrubbed[0]}: this could not be replayed; the replay server's log says why.\n".encode()]


def _error_text(page: bytes) -> str:
    """The details of a pywb error page, as one line of text."""
    text = page.decode("utf-8", "replace")
    match = re.search(r"<pre>(.*?)</pre>", text, re.DOTALL)
    return html.unescape(" ".join((match.group(1) if match else text).split()))[:2000]
