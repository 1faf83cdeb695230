"""The command line: `citearchive archive|demo ...`."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from archive.exceptions import ArchiveError
from crawler.exitcodes import EXIT_INTERNAL, EXIT_USAGE
from crawler.sources import SourceError, load_local_post, parse_source

DEFAULT_OUT = Path("citearchive-data")
DEFAULT_COLLECTION = "citations"

ARCHIVE_EXAMPLES = """\
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


class UsageError(Exception):
    """Bad input: reported on one line with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citearchive",
        description="Archive the sources a post cites as replayable WARC snapshots.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    archive = commands.add_parser(
        "archive",
        help="archive the citations of posts",
        description="Fetch every source the posts cite and store them as WARC, with a CDXJ index and a manifest.",
        epilog=ARCHIVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    archive.add_argument("sources", nargs="+", metavar="SOURCE", help="post URL, or a local .html or .md file")
    add_output_options(archive)
    archive.add_argument("--base", metavar="URL", help="base URL for relative links in local files")
    archive.add_argument("--include-internal", action="store_true", help="also archive links to the post's own site")
    archive.add_argument(
        "--allow-private",
        action="store_true",
        help="let the crawler fetch loopback and private addresses (off by default: SSRF guard)",
    )
    archive.add_argument("--timeout", type=float, metavar="SECONDS", help="download timeout per request (default 30)")
    archive.add_argument("--max-size", type=float, metavar="MIB", help="largest response to archive, in MiB (default 50)")
    archive.add_argument("--user-agent", metavar="UA", help="User-Agent header to send")
    archive.add_argument("--retries", type=int, metavar="N", help="retries on 5xx and timeouts (default 2)")

    demo = commands.add_parser(
        "demo",
        help="archive a bundled sample post whose sources are served on 127.0.0.1",
        description="Serve the bundled sample post and its cited pages on 127.0.0.1 and archive them.",
    )
    add_output_options(demo, default_out=Path("demo-output"), default_collection="demo")
    return parser


def add_output_options(
    parser: argparse.ArgumentParser, default_out: Path = DEFAULT_OUT, default_collection: str = DEFAULT_COLLECTION
) -> None:
    parser.add_argument("--out", type=Path, default=default_out, help=f"output directory (default {default_out})")
    parser.add_argument(
        "--collection", default=default_collection, help=f"collection name (default {default_collection})"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request (DEBUG)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


def check_output_dir(out: Path) -> None:
    """Fail early, with one line, when the output directory cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write to output directory {str(out)!r}: {exc.strerror or exc}") from exc


def check_collection_name(name: str) -> None:
    if not name or name.startswith(".") or any(ch in name for ch in "/\\\0") or name != name.strip():
        raise UsageError(f"invalid collection name {name!r}: use letters, digits, '-' or '_'")


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


def log_level(args: argparse.Namespace, interactive: bool) -> str:
    if args.verbose:
        return "DEBUG"
    if args.quiet or interactive:
        return "WARNING"
    return "INFO"


def run_archive(args: argparse.Namespace) -> int:
    from crawler.runner import CrawlOptions, run_crawl
    from crawler.summary import exit_code_for, print_summary

    check_collection_name(args.collection)
    check_sources(args.sources, args.base)
    check_output_dir(args.out)
    interactive = sys.stderr.isatty()
    options = CrawlOptions(
        sources=args.sources,
        out=args.out,
        collection=args.collection,
        allow_private=args.allow_private,
        base_url=args.base,
        include_internal=args.include_internal,
        overrides=crawl_overrides(args),
        log_level=log_level(args, interactive),
        progress=interactive and not args.quiet,
    )
    manifest_path = run_crawl(options)
    print_summary(manifest_path, options.out, options.collection)
    return exit_code_for(manifest_path)


def run_demo(args: argparse.Namespace) -> int:
    from crawler.demo.command import run_demo as demo

    check_collection_name(args.collection)
    check_output_dir(args.out)
    # The summary table is the demo's output: keep the crawl log to warnings.
    level = "DEBUG" if args.verbose else "WARNING"
    return demo(args.out, args.collection, level)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"archive": run_archive, "demo": run_demo}
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        print(f"citearchive: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ArchiveError, OSError) as exc:
        if args.debug:
            raise
        print(f"citearchive: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("citearchive: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if args.debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"citearchive: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
