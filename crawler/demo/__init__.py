"""The bundled demo: a Swedish blog post citing pages on four local sites, each its own origin."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crawler.localsite import SiteGroup

#: One folder per site; each is served on its own port, so each is its own origin.
SITE_ROOT = Path(__file__).with_name("site")

#: The site holding the blog post, and the post's path on it.
POST_SITE = "blogg"
POST_PATH = "/2024/03/valet-och-kallorna.html"

#: How many links the post's ``<article>`` cites (one redirects with a 301, one is a 404).
CITATION_COUNT = 10


def demo_sites(ports: Mapping[str, int] | None = None) -> SiteGroup:
    """The demo's sites, not yet started; on ``ports`` (site name → port) when they are all free.

    ``with demo_sites() as sites: post_url = sites.url(POST_SITE, POST_PATH)``
    """
    return SiteGroup(SITE_ROOT, ports=ports)
