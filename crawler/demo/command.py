"""`citearchive demo`: serve the bundled sample post on 127.0.0.1 and archive its citations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.demo import POST_PATH, POST_SITE, demo_sites
from crawler.runner import CrawlOptions, run_crawl
from crawler.summary import summarize

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.runlog import Verbosity


def run_demo(out: Path, collection: str, verbosity: Verbosity) -> int:
    """Archive the demo post into ``out``; the sites stop when the crawl ends."""
    with demo_sites() as sites:
        post_url = sites.url(POST_SITE, POST_PATH)
        if verbosity != "quiet":
            print(f"Serving the demo post at {post_url}")
            for name, base in sorted(sites.base_urls.items()):
                print(f"  site {name:<10} {base}")
        options = CrawlOptions(
            sources=[post_url],
            out=out,
            collection=collection,
            # The demo's sites are on 127.0.0.1, which the SSRF guard refuses by default.
            allow_private=True,
            verbosity=verbosity,
        )
        manifest_path = run_crawl(options)
    return summarize(manifest_path, out, collection, quiet=verbosity == "quiet")
