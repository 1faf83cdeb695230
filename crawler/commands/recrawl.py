"""`citearchive recrawl --collection NAME`: archive again every post the collection knows, in one crawl."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from crawler.commands.archive import DEFAULT_COLLECTION, DEFAULT_OUT, crawl_overrides
from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import (
    UsageError,
    add_fetch_options,
    add_log_options,
    add_output_options,
    add_rules_option,
    check_collection_name,
    check_rules,
    verbosity,
)

logger = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  citearchive recrawl --collection citations --out data/
  citearchive recrawl --out /srv/cites --wait 3600 -q    # from cron: a daily job is in docs/recrawl.md

Unchanged pages are stored as revisit records. The run writes its own manifest; each citation in it
also carries "rot" (alive, at-risk, dead), "drift" and "best_capture" (its last good copy).

exit codes: as for `citearchive archive` (0 done, 1 internal error, 2 bad input, 3 a post failed,
4 ended early, 130/143 stopped by SIGINT/SIGTERM: run the same command again to resume), plus 6 when
another run holds the collection (see --wait).
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "recrawl",
        help="archive again every post and citation a collection knows",
        description="Re-run every source named in the collection's manifests, in one crawl, deduplicating unchanged pages.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_output_options(parser, DEFAULT_OUT, DEFAULT_COLLECTION)
    add_log_options(parser)
    parser.add_argument("--include-internal", action="store_true", help="also archive links to the post's own site")
    add_rules_option(parser)
    add_fetch_options(parser)
    parser.add_argument(
        "--wait",
        type=bounded("wait"),
        default=0.0,
        metavar="SECONDS",
        help=help_text("wait", "wait this long for a running crawl of the collection to finish", "0: fail at once"),
    )
    parser.set_defaults(run=run)


def archive_defaults(args: argparse.Namespace) -> None:
    """Give ``args`` every option of `archive` it lacks, at its default: crawl_overrides() reads them all."""
    from crawler.commands import archive

    parser = argparse.ArgumentParser(add_help=False)
    archive.register(parser.add_subparsers())
    defaults = parser.parse_args(["archive", "placeholder"])
    for name, value in vars(defaults).items():
        if not hasattr(args, name):
            setattr(args, name, value)


def known_sources(out: Path, collection: str) -> tuple[list[str], str | None]:
    """Every post source of the collection's manifests, first seen first; and a base URL for local files."""
    from archive.catalog import read_manifests
    from archive.collection import Collection

    sources: dict[str, None] = {}
    base: str | None = None
    for _, manifest in read_manifests(Collection(out, collection)):
        for post in manifest.get("posts") or []:
            source = str(post.get("source") or "")
            if not source:
                continue
            if "://" not in source:
                if not Path(source).exists():
                    logger.warning("Skipping %(source)s: the local file is gone", {"source": source})
                    continue
                base = base or post.get("url")
            sources[source] = None
    return list(sources), base


def run(args: argparse.Namespace) -> int:
    from archive.collection import Collection
    from crawler.annotate import annotate_manifest
    from crawler.commands.archive import choose_run
    from crawler.commands.locking import hold_collection_lock
    from crawler.runner import CrawlOptions, run_crawl
    from crawler.stopsignals import installed
    from crawler.summary import summarize

    check_collection_name(args.collection)
    collection = Collection(args.out, args.collection)
    if not collection.manifests_dir.is_dir():
        raise UsageError(f"no collection {args.collection!r} under {str(args.out)!r}: archive something into it first")
    sources, base = known_sources(args.out, args.collection)
    if not sources:
        raise UsageError(f"the collection {args.collection!r} names no post that can be fetched again")
    archive_defaults(args)
    check_rules(args.out, args.collection, args.rules)
    overrides = crawl_overrides(args)
    overrides["ARCHIVE_LOCK_HELD"] = True
    interactive = sys.stderr.isatty()
    options = CrawlOptions(
        sources=sources,
        out=args.out,
        collection=args.collection,
        allow_private=args.allow_private,
        base_url=base,
        include_internal=args.include_internal,
        overrides=overrides,
        verbosity=verbosity(args),
        progress=interactive and not args.quiet,
    )
    with hold_collection_lock(args.out, args.collection, wait=args.wait), installed().finishing():
        # An interrupted recrawl is resumed like an archive run: its sources are the same list.
        choose_run(options, resume=False, fresh=False)
        manifest_path = run_crawl(options)
        if manifest_path.exists():
            annotate_manifest(collection, manifest_path)
        return summarize(manifest_path, options.out, options.collection, quiet=args.quiet)
