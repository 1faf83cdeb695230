"""`citearchive archive SOURCE...`: archive the citations of posts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler.commands.common import (
    UsageError,
    add_log_options,
    add_output_options,
    check_collection_name,
    check_output_dir,
    log_level,
)
from crawler.sources import SourceError, load_local_post, parse_source

DEFAULT_OUT = Path("citearchive-data")
DEFAULT_COLLECTION = "citations"

EXAMPLES = """\
examples:
  citearchive archive https://blog.example/2018/10/some-post/ --out data/
  citearchive archive post.html notes.md --base https://blog.example/ --collection mine
  citearchive archive https://blog.example/post/ --timeout 20 --max-size 20

exit codes:
  0  every citation reached a terminal status (archived, failed, blocked or skipped)
  1  internal error
  2  bad input: missing or unreadable file, malformed URL, unwritable output directory
  3  a post could not be fetched or read (its citations are unknown)
  4  the run ended early (interrupted): some citations were not attempted
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "archive",
        help="archive the citations of posts",
        description="Fetch every source the posts cite and store them as WARC, with a CDXJ index and a manifest.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="post URL, or a local .html or .md file")
    add_output_options(parser, DEFAULT_OUT, DEFAULT_COLLECTION)
    add_log_options(parser)
    parser.add_argument("--base", metavar="URL", help="base URL for relative links in local files")
    parser.add_argument("--include-internal", action="store_true", help="also archive links to the post's own site")
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let the crawler fetch loopback and private addresses (off by default: SSRF guard)",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="download timeout per request (default 30)")
    parser.add_argument("--max-size", type=float, metavar="MIB", help="largest response to archive, in MiB (default 50)")
    parser.add_argument("--user-agent", metavar="UA", help="User-Agent header to send")
    parser.add_argument("--retries", type=int, metavar="N", help="retries on 5xx and timeouts (default 2)")
    parser.set_defaults(run=run)


def check_sources(sources: list[str], base_url: str | None) -> None:
    """Parse every source before the crawl, so bad input costs nothing."""
    for raw in sources:
        try:
            source = parse_source(raw)
            if source.kind != "url":
                load_local_post(source, base_url=base_url)
        except SourceError as exc:
            raise UsageError(str(exc)) from exc


def crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.timeout is not None:
        if args.timeout <= 0:
            raise UsageError("--timeout must be a positive number of seconds")
        overrides["DOWNLOAD_TIMEOUT"] = args.timeout
    if args.max_size is not None:
        if args.max_size <= 0:
            raise UsageError("--max-size must be a positive number of MiB")
        overrides["DOWNLOAD_MAXSIZE"] = int(args.max_size * 1024 * 1024)
    if args.user_agent:
        overrides["USER_AGENT"] = args.user_agent
    if args.retries is not None:
        if args.retries < 0:
            raise UsageError("--retries must be 0 or more")
        overrides["RETRY_TIMES"] = args.retries
    return overrides


def run(args: argparse.Namespace) -> int:
    from crawler.runner import CrawlOptions, run_crawl
    from crawler.summary import exit_code_for, print_summary

    check_collection_name(args.collection)
    check_sources(args.sources, args.base)
    overrides = crawl_overrides(args)
    check_output_dir(args.out)
    interactive = sys.stderr.isatty()
    options = CrawlOptions(
        sources=args.sources,
        out=args.out,
        collection=args.collection,
        allow_private=args.allow_private,
        base_url=args.base,
        include_internal=args.include_internal,
        overrides=overrides,
        log_level=log_level(args, interactive),
        progress=interactive and not args.quiet,
    )
    manifest_path = run_crawl(options)
    print_summary(manifest_path, options.out, options.collection)
    return exit_code_for(manifest_path)
