"""scrapy-redis's shared duplicate filter, keyed on the citation rather than the URL."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from scrapy_redis.dupefilter import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy import Request

#: Set on the requests of citations: one fetch per citation key across all workers.
CITATION_META_KEY = "archive_citation"


class CitationDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """A citation is fetched once per run whichever worker meets it first.

    Its fingerprint is its citation key (the normalised URL the manifest
    matches on); other requests keep scrapy-redis's URL fingerprint. The
    later hops of an admitted request (a redirect's target) always pass, as
    in the single-process crawl: two citations redirecting to one page must
    both get their outcome.
    """

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("redirect_times"):
            return False
        seen: bool = super().request_seen(request)
        return seen

    def request_fingerprint(self, request: Request) -> str:
        if request.meta.get(CITATION_META_KEY):
            key = f"citation {request.meta['archive_key']}"
            return hashlib.sha1(key.encode("utf-8")).hexdigest()
        fingerprint: str = super().request_fingerprint(request)
        return fingerprint
