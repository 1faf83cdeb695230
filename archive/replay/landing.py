"""The landing app: collections, posts and citations with links to the archive origin; no pywb, no cookies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader

from archive.replay.catalog import Catalog, PostEntry, valid_collection_name
from archive.replay.isolation import LANDING_HEADERS, cross_site_request
from archive.replay.posttext import post_blocks

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    StartResponse = Callable[..., Any]

__all__ = ["LandingApp"]

STATUS_TEXT = {200: "OK", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}


def live_url(url: object) -> str | None:
    """``url`` when it is an http(s) URL, so no ``javascript:`` link can come from a manifest."""
    text = str(url or "")
    try:
        scheme = urlsplit(text).scheme
    except ValueError:  # a malformed citation URL (an unclosed IPv6 bracket): no link
        return None
    return text if scheme in ("http", "https") else None


def capture_time(timestamp: object) -> str:
    text = str(timestamp or "")
    if len(text) != 14 or not text.isdigit():
        return ""
    return f"{text[0:4]}-{text[4:6]}-{text[6:8]} {text[8:10]}:{text[10:12]}:{text[12:14]} UTC"


class LandingApp:
    """WSGI app for ``/``, ``/c/COLL/POST`` and the same-origin-only ``/api/collections``."""

    def __init__(self, catalog: Catalog, archive_origin: str) -> None:
        self.catalog = catalog
        self.archive_origin = archive_origin.rstrip("/")
        self.env = Environment(loader=PackageLoader("archive.replay", "templates"), autoescape=True)
        self.env.globals.update(archived_url=self.archived_url, live_url=live_url, capture_time=capture_time)

    def archived_url(self, collection: str, capture: dict[str, Any] | None, url: str | None = None) -> str | None:
        """Framed replay of a capture on the archive origin, or None when nothing was stored."""
        if not capture or not capture.get("timestamp") or not capture.get("warc_file"):
            return None
        target = live_url(url or capture.get("final_url"))
        if target is None:
            return None
        timestamp = str(capture["timestamp"])
        return f"{self.archive_origin}/{quote(collection)}/{timestamp}/{quote(target, safe=':/?&=%#;,+@~!$*()')}"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self._send(start_response, 405, "text/plain", b"Only GET and HEAD.\n", method)
        path = environ.get("PATH_INFO", "/") or "/"
        parts = [part for part in path.split("/") if part]
        if parts[:2] == ["api", "collections"] and len(parts) == 2:
            if cross_site_request(environ):
                # The archive origin (or any other) may not call this API: no CORS, and refused outright.
                return self._send(start_response, 403, "text/plain", b"Same-origin requests only.\n", method)
            return self._send(start_response, 200, "application/json", self._api(), method)
        if not parts:
            page = self.env.get_template("index.html").render(collections=self.catalog.collections())
            return self._send(start_response, 200, "text/html; charset=utf-8", page.encode(), method)
        if len(parts) == 3 and parts[0] == "c" and valid_collection_name(parts[1]):
            collection = self.catalog.collection(parts[1])
            post = collection.post(parts[2]) if collection else None
            if collection is not None and post is not None:
                return self._send(start_response, 200, "text/html; charset=utf-8", self._post(collection.name, collection.archive_dir, post), method)
        page = self.env.get_template("notfound.html").render(path=path)
        return self._send(start_response, 404, "text/html; charset=utf-8", page.encode(), method)

    def _post(self, collection: str, archive_dir: Any, post: PostEntry) -> bytes:
        blocks = post_blocks(archive_dir, post.post)
        template = self.env.get_template("post.html")
        return template.render(collection=collection, entry=post, blocks=blocks).encode()

    def _api(self) -> bytes:
        listing = [
            {
                "name": collection.name,
                "posts": [
                    {"key": p.key, "title": p.title, "url": p.post.get("url"), "run_id": p.run_id, "counts": p.counts()}
                    for p in collection.posts
                ],
            }
            for collection in self.catalog.collections()
        ]
        return json.dumps({"collections": listing}, indent=1).encode()

    def _send(self, start_response: StartResponse, status: int, kind: str, body: bytes, method: str) -> list[bytes]:
        headers = [("Content-Type", kind), ("Content-Length", str(len(body))), *LANDING_HEADERS]
        start_response(f"{status} {STATUS_TEXT[status]}", headers)
        return [] if method == "HEAD" else [body]
