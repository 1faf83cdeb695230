"""Pages under /live/ that a test changes between runs through /__set?path=...&mode=...&version=N."""

from __future__ import annotations

import gzip
import threading
from urllib.parse import parse_qs

from tests.mocksite.content import HTML, MockResponse, html_page

#: What a /live/ page can turn into. A directory path (ending in "/") sets the
#: answer for every unknown name in it, which is what a soft-404 probe sees.
MODES = ("ok", "gone", "gone410", "error", "soft404", "soft404-sv", "soft404-de", "home", "gzipvary", "parked")

HOME_HTML = html_page("Mock sites home", "<h1>Welcome</h1>\n<p>The home page of the mock sites.</p>")


def article(name: str, version: int) -> bytes:
    """A page with a title and paragraphs; each version rewrites most of the text."""
    paragraphs = [
        f"The {name} report explains how the river authority measured the spring flood levels.",
        "Measurements were taken at twelve stations along the river every hour for three weeks.",
        "The data show that the peak arrived two days earlier than the models had predicted.",
        "Local councils used the findings to plan new embankments and warning systems.",
    ]
    if version > 1:
        paragraphs[1:] = [
            f"Revision {version}: the authority withdrew its earlier figures after an audit.",
            "An independent review found calibration errors at most stations, so no conclusion holds.",
            "Councils have paused the embankment work until new measurements are published.",
        ]
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return html_page(f"{name} report", f"<main><article><h1>The {name} report</h1>\n{body}</article></main>")


_SOFT = {
    "soft404": ("Page not found", "<h1>Oops!</h1><p>Sorry, the page you were looking for could not be found.</p>"),
    "soft404-sv": ("Sidan hittades inte", "<h1>Hoppsan</h1><p>Sidan du söker kunde inte hittas.</p>"),
    "soft404-de": ("Seite nicht gefunden", "<h1>Hoppla</h1><p>Die angeforderte Seite wurde nicht gefunden.</p>"),
}
_PARKED = html_page("example-domain.test", "<h1>This domain is for sale!</h1><p>Buy this domain today.</p>")


class LiveState:
    """Modes and versions of /live/ paths, changed by tests between crawls (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modes: dict[str, tuple[str, int]] = {}
        self._fetches = 0

    def set(self, query: str) -> MockResponse:
        params = parse_qs(query)
        path = (params.get("path") or [""])[0]
        mode = (params.get("mode") or ["ok"])[0]
        version = int((params.get("version") or ["1"])[0])
        if not path.startswith("/live/") or mode not in MODES:
            return MockResponse(400, (("Content-Type", "text/plain"),), b"bad path or mode\n")
        with self._lock:
            self._modes[path] = (mode, version)
        return MockResponse(200, (("Content-Type", "text/plain"),), f"{path} {mode} {version}\n".encode())

    def _lookup(self, path: str) -> tuple[str, int] | None:
        with self._lock:
            self._fetches += 1
            if path in self._modes:
                return self._modes[path]
            return self._modes.get(path.rsplit("/", 1)[0] + "/")

    def respond(self, path: str) -> MockResponse | None:
        """The answer for ``path``, or None when it is not a live route."""
        if path == "/":
            return MockResponse(200, (("Content-Type", HTML),), HOME_HTML)
        if not path.startswith("/live/"):
            return None
        state = self._lookup(path)
        if state is None:
            return None
        mode, version = state
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if mode == "ok":
            return MockResponse(200, (("Content-Type", HTML),), article(name, version))
        if mode in ("gone", "gone410"):
            status = 404 if mode == "gone" else 410
            return MockResponse(status, (("Content-Type", HTML),), html_page("Not Found", "<h1>Not Found</h1>"))
        if mode == "error":
            return MockResponse(503, (("Content-Type", HTML),), html_page("Unavailable", "<h1>503</h1>"))
        if mode in _SOFT:
            title, body = _SOFT[mode]
            return MockResponse(200, (("Content-Type", HTML),), html_page(title, body))
        if mode == "home":
            return MockResponse(301, (("Content-Type", HTML), ("Location", "/")), b"")
        if mode == "parked":
            return MockResponse(200, (("Content-Type", HTML),), _PARKED)
        # gzipvary: the same page, compressed on the fly with a new gzip mtime each time,
        # so the encoded bytes (and payload digest) change while the content does not.
        with self._lock:
            mtime = self._fetches
        body = gzip.compress(article(name, version), mtime=mtime)
        headers = (("Content-Type", HTML), ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding"))
        return MockResponse(200, headers, body)
