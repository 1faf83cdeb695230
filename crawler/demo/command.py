"""`citearchive demo`: serve the bundled sample post on 127.0.0.1 and archive its citations."""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING

from archive.atomic import atomic_write_text
from archive.collection import Collection
from crawler.demo import POST_PATH, POST_SITE, demo_sites
from crawler.runner import CrawlOptions, run_crawl
from crawler.summary import summarize

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.runlog import Verbosity

logger = logging.getLogger(__name__)

#: Where the demo notes the ports its sites were served on, beside the collection's folders.
PORTS_FILE = "demo-sites.json"


def _saved_ports(collection: Collection) -> dict[str, int]:
    try:
        data = json.loads((collection.root / PORTS_FILE).read_text(encoding="utf-8"))
        return {str(name): int(port) for name, port in data["ports"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def run_demo(out: Path, collection_name: str, verbosity: Verbosity) -> int:
    """Archive the demo post into ``out``; the sites stop when the crawl ends.

    An interrupted demo resumes like `archive` does. Its sites get random ports,
    and a URL names its port, so a run is matched by its sources (the post's URL)
    only if the sites are served on the same ports again: the demo notes them
    (``demo-sites.json``) and asks for them next time. Then the post, its links and
    every URL are the very ones the interrupted run archived, and the run resumes.
    When a port has been taken meanwhile, every site gets a new one, the post links
    to other URLs, and a new run starts (it says so).
    """
    from crawler.commands.archive import choose_run
    from crawler.commands.locking import hold_collection_lock
    from crawler.stopsignals import installed

    collection = Collection(out, collection_name)
    with hold_collection_lock(out, collection_name), installed().finishing():
        preferred = _saved_ports(collection)
        with demo_sites(preferred) as sites:
            if preferred and sites.ports != preferred:
                print("The demo's earlier ports are taken: new URLs, so a new run", file=sys.stderr)
            collection.create()
            atomic_write_text(collection.root / PORTS_FILE, json.dumps({"ports": sites.ports}, indent=2) + "\n")
            post_url = sites.url(POST_SITE, POST_PATH)
            if verbosity != "quiet":
                print(f"Serving the demo post at {post_url}")
                for name, base in sorted(sites.base_urls.items()):
                    print(f"  site {name:<10} {base}")
            options = CrawlOptions(
                sources=[post_url],
                out=out,
                collection=collection_name,
                # The demo's sites are on 127.0.0.1, which the SSRF guard refuses by default.
                allow_private=True,
                verbosity=verbosity,
                overrides={"ARCHIVE_LOCK_HELD": True},
            )
            choose_run(options, resume=False, fresh=False)
            manifest_path = run_crawl(options)
        return summarize(manifest_path, out, collection_name, quiet=verbosity == "quiet")
