"""`citearchive archive SOURCE...`: archive the citations of posts."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import (
    add_fetch_options,
    add_rules_option,
    fetch_overrides,
    UsageError,
    add_log_options,
    add_output_options,
    check_collection_name,
    check_output_dir,
    check_rules,
    verbosity,
)
from crawler.commands.robustlinks import add_robust_link_options, check_robust_link_options
from crawler.commands.robustlinks import write as write_robust_links
from crawler.shards import SHARD_BY
from crawler.sources import SourceError, check_base_url, load_local_feed, parse_source, read_local_post

DEFAULT_OUT = Path("citearchive-data")
DEFAULT_COLLECTION = "citations"

EXAMPLES = """\
examples:
  citearchive archive https://blog.example/2018/10/some-post/ --out data/
  citearchive archive post.html notes.md --base https://blog.example/ --collection mine
  citearchive archive https://blog.example/post/ --timeout 20 --max-size 20
  citearchive archive https://blog.example/feed.xml --since 2024-01-01   # every post of a feed
  citearchive archive urls.txt                      # one URL per line, '#' comments; '-' reads stdin
  citearchive archive post.html --robust-links post.robust.html --replay-base https://archive.example.org/
  citearchive archive https://blog.example/post/ --processes 2     # two crawl processes, a shard of hosts each

output:
  stdout: the summary; its last line names the run's log file, OUT/collections/NAME/logs/RUN_ID.log
  stderr: a progress line on a terminal, then warnings and errors, one line each;
          -v adds the crawl's whole log (Scrapy's), -q leaves only warnings and errors (no summary)

exit codes:
  0    every citation reached a terminal status (archived, failed, blocked or skipped)
  1    internal error
  2    bad input: missing or unreadable file, malformed URL, unwritable output directory,
       a number out of its range
  3    a post could not be fetched or read (its citations are unknown)
  4    the run ended early (disk full, a crawl process crashed): run the same command again to resume
  6    another run holds this collection's lock
  130  stopped by SIGINT (Ctrl-C), 143 by SIGTERM: requests in flight were cut, the manifest lists
       what was archived and the rest as not attempted; run the same command again to resume.
       A second signal stops at once (the next run recovers the WARC being written).
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "archive",
        help="archive the citations of posts",
        description="Fetch every source the posts cite and store them as WARC, with a CDXJ index and a manifest.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="post URL, feed URL, local .html/.md post, .xml/.rss/.atom feed, .txt list of URLs, or - (URLs on stdin)",
    )
    add_output_options(parser, DEFAULT_OUT, DEFAULT_COLLECTION)
    add_log_options(parser)
    parser.add_argument("--base", metavar="URL", help="base URL for relative links in local files")
    parser.add_argument("--include-internal", action="store_true", help="also archive links to the post's own site")
    parser.add_argument("--since", metavar="DATE", help="feeds: only entries published on or after DATE (YYYY-MM-DD)")
    add_rules_option(parser)
    add_robust_link_options(parser)
    add_fetch_options(parser)
    parser.add_argument(
        "--robots",
        choices=("named", "obey", "record", "ignore"),
        help="robots.txt: named = obey only rules naming citearchive (default); obey = any disallow blocks; "
        "record = never block, record the verdict; ignore = do not fetch robots.txt",
    )
    parser.add_argument(
        "--retry-after-max",
        type=bounded("retry_after_max"),
        metavar="SECONDS",
        help=help_text(
            "retry_after_max", "longest Retry-After (429/503) honoured before a retry; longer ones wait this long", 30
        ),
    )
    parser.add_argument(
        "--autothrottle",
        action="store_true",
        help="lengthen a host's delay to its response time (Scrapy's AutoThrottle; never below --delay)",
    )
    parser.add_argument(
        "--no-requisites",
        action="store_true",
        help="archive cited pages alone, without the images, styles, fonts and scripts they need to render",
    )
    parser.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:ADDRESS[,ADDRESS]",
        help="answer for HOST without DNS, like curl's --resolve (the SSRF guard still applies)",
    )
    parser.add_argument("--dns-server", metavar="HOST[:PORT]", help="resolve names with this DNS server (IPv4 answers)")
    parser.add_argument(
        "--trust-host",
        action="append",
        default=[],
        metavar="HOST",
        help="let the SSRF guard pass this host name (e.g. an internal mirror); proxies are trusted already",
    )
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a Scrapy setting for this run, like `scrapy crawl -s` (e.g. -s CONCURRENT_REQUESTS_PER_DOMAIN=16)",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="also load each cited HTML page in headless Chromium (JavaScript run, every request archived) "
        "and store a full-page screenshot; see docs/render.md",
    )
    parser.add_argument(
        "--render-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="render only the cited pages of DOMAIN and its subdomains (repeatable; ARCHIVE_RENDER_DOMAINS)",
    )
    parser.add_argument(
        "--processes",
        type=bounded("processes"),
        default=1,
        metavar="N",
        help=help_text(
            "processes",
            "crawl with N processes, each requesting its shard of the citations, merged into one run; "
            "never more than the shards with citations when the posts are local files",
            1,
        )
        + "; see docs/performance.md, 'Multi-process mode'",
    )
    parser.add_argument(
        "--shard-by",
        choices=SHARD_BY,
        default="host",
        help="with --processes: split the citations by host (default: one process per host, so --delay and "
        "one connection per host still hold) or by URL (for many citations of one host whose limits you set)",
    )
    resumption = parser.add_mutually_exclusive_group()
    resumption.add_argument(
        "--resume",
        action="store_true",
        help="complete the interrupted run over the same sources (the default when there is one)",
    )
    resumption.add_argument("--fresh", action="store_true", help="start a new run even if one was interrupted")
    parser.set_defaults(run=run)


def check_sources(sources: list[str], base_url: str | None) -> None:
    """Parse every source before the crawl, so bad input costs nothing."""
    if base_url is not None:
        try:
            check_base_url(base_url, "--base")
        except SourceError as exc:
            raise UsageError(str(exc)) from exc
    for raw in sources:
        try:
            source = parse_source(raw)
            if source.kind == "feed":
                load_local_feed(source)
            elif source.kind != "url":
                read_local_post(source, base_url=base_url)  # read and checked; the crawl extracts
        except SourceError as exc:
            raise UsageError(str(exc)) from exc


def expand_source_lists(args: argparse.Namespace) -> None:
    """Replace URL lists (.txt files, ``-`` for stdin) by their URLs; check ``--since``."""
    from crawler.feeds import FeedError, parse_since
    from crawler.urllist import expand_sources

    try:
        args.sources = expand_sources(args.sources, sys.stdin)
        if args.since is not None:
            parse_since(args.since)
    except (SourceError, FeedError) as exc:
        raise UsageError(str(exc)) from exc
    if not args.sources:
        raise UsageError("the URL list is empty: give at least one post")


def crawl_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if getattr(args, "since", None):
        overrides["ARCHIVE_SINCE"] = args.since
    if getattr(args, "rules", None):  # the spider adds the collection's rules.toml itself
        overrides["ARCHIVE_RULES"] = [str(path) for path in args.rules]
    overrides.update(fetch_overrides(args))
    if getattr(args, "no_requisites", False):
        overrides["ARCHIVE_REQUISITES"] = False
    if getattr(args, "render", False):
        overrides["ARCHIVE_RENDER"] = True
    if getattr(args, "render_domain", None):
        overrides["ARCHIVE_RENDER_DOMAINS"] = [d.lower().strip(".") for d in args.render_domain]
    overrides.update(politeness_overrides(args))
    overrides.update(resolver_overrides(args))
    overrides.update(setting_overrides(getattr(args, "settings", [])))
    return overrides


def setting_overrides(pairs: list[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs; values stay strings, Scrapy's getint/getbool/getfloat convert them."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-s {pair!r}: expected NAME=VALUE, e.g. -s DOWNLOAD_DELAY=0")
        overrides[name.strip()] = value
    return overrides


def politeness_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--robots``, ``--retry-after-max`` and ``--autothrottle`` (see docs/reliability.md, H)."""
    overrides: dict[str, Any] = {}
    if getattr(args, "robots", None):
        overrides["ARCHIVE_ROBOTS"] = args.robots
    cap = getattr(args, "retry_after_max", None)
    if cap is not None:
        overrides["ARCHIVE_RETRY_AFTER_MAX"] = cap
    if getattr(args, "autothrottle", False):
        overrides["AUTOTHROTTLE_ENABLED"] = True
    return overrides


def resolver_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--resolve`` and ``--dns-server``, checked here so a typo is a one-line error."""
    from crawler.ssrf import parse_nameserver, parse_resolve_entry

    try:
        for entry in args.resolve:
            parse_resolve_entry(entry)
        servers = [args.dns_server] if args.dns_server else []
        for server in servers:
            parse_nameserver(server)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return {"ARCHIVE_RESOLVE": list(args.resolve), "ARCHIVE_DNS_SERVERS": servers}


def choose_run(options: Any, *, resume: bool, fresh: bool) -> None:
    """Complete the newest interrupted run over the same sources, or record a new one."""
    from archive.collection import Collection
    from crawler.resume import RunRecord, find_resumable_run

    collection = Collection(options.out, options.collection)
    record = None if fresh else find_resumable_run(collection, options.sources)
    if record is None:
        if resume:
            raise UsageError("--resume: no interrupted run over these sources in this collection")
        RunRecord.new(options.run_id, options.sources).save(collection)
        return
    if options.verbosity != "quiet":
        print(f"Resuming the interrupted run {record.run_id} (use --fresh to start a new one)", file=sys.stderr)
    options.run_id = record.run_id
    options.overrides["ARCHIVE_RESUME"] = True
    options.overrides["ARCHIVE_RUN_STARTED"] = record.started


def processes_with_work(args: argparse.Namespace) -> int:
    """``--processes``, or fewer when the citations (known here when every post is a local file) span fewer shards.

    A URL post is read by the crawl itself: its citations, and so the shards with
    work, are known only then, and ``--processes`` is taken as given.
    """
    if args.processes == 1:
        return 1
    from crawler.shards import shard_text, useful_processes
    from crawler.sources import load_local_post

    sources = [parse_source(raw) for raw in args.sources]
    if any(source.kind not in ("html", "markdown") for source in sources):
        return int(args.processes)
    _, rules = check_rules(args.out, args.collection, args.rules)
    texts: set[str] = set()
    extraction_log = logging.getLogger("crawler.citations")
    extraction_log.disabled = True  # the crawl reads the posts again, and warns of what they lack then
    try:
        for source in sources:
            document = load_local_post(source, base_url=args.base, include_internal=args.include_internal, rules=rules)
            texts.update(shard_text(citation.url, citation.key, args.shard_by) for citation in document.citations)
    except SourceError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        extraction_log.disabled = False
    count = useful_processes(texts, args.processes)
    if count < args.processes and not args.quiet:
        what = {"host": "host", "url": "URL"}[args.shard_by]
        span = f"{len(texts)} {what}{'' if len(texts) == 1 else 's'}" if texts else f"no {what}"
        how = "the crawl runs in this process" if count == 1 else f"{count} crawl processes"
        print(f"citearchive: --processes {args.processes}: the posts cite {span}, so {how}", file=sys.stderr)
    return count


def run(args: argparse.Namespace) -> int:
    from crawler.runner import CrawlOptions, run_crawl
    from crawler.summary import summarize

    check_collection_name(args.collection)
    expand_source_lists(args)
    check_robust_link_options(args)
    check_sources(args.sources, args.base)
    check_rules(args.out, args.collection, args.rules)
    overrides = crawl_overrides(args)
    processes = processes_with_work(args)
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
        trusted_hosts=list(args.trust_host),
        verbosity=verbosity(args),
        progress=interactive and not args.quiet,
    )
    from crawler.commands.locking import hold_collection_lock
    from crawler.stopsignals import installed

    options.overrides["ARCHIVE_LOCK_HELD"] = True  # one writer per collection: held here for the run
    crashed: list[str] = []
    with hold_collection_lock(options.out, options.collection), installed().finishing():
        # From here a signal stops the crawl (or render phase) and the run still writes its manifest.
        choose_run(options, resume=args.resume, fresh=args.fresh)
        if processes > 1:
            from crawler.processes import run_processes

            outcome = run_processes(options, processes, args.shard_by)
            manifest_path, crashed = outcome.manifest_path, outcome.problems
        else:
            if options.overrides.get("ARCHIVE_RESUME"):
                from crawler.processes import gather_leftovers

                gather_leftovers(options)  # an earlier attempt may have run with --processes
            manifest_path = run_crawl(options)
        render_ok = render_after_crawl(options, manifest_path)
        code = summarize(manifest_path, options.out, options.collection, quiet=args.quiet)
        if args.robust_links is not None and manifest_path.is_file():
            for path in write_robust_links(manifest_path, args):
                if not args.quiet:
                    print(f"Robust Links: {path}")
    from crawler.exitcodes import EXIT_INCOMPLETE

    if crashed:  # a crawl process died (reported as it happened): the run is incomplete
        return EXIT_INCOMPLETE
    return code if render_ok or code != 0 else EXIT_INCOMPLETE


def render_after_crawl(options: Any, manifest_path: Path) -> bool:
    """Browser mode: render the run's cited pages once the crawl has ended (its reactor stopped).

    Skipped when the crawl was interrupted. Returns False when the render phase was.
    """
    from crawler.exitcodes import EXIT_INCOMPLETE
    from crawler.runner import build_settings
    from crawler.summary import exit_code_for

    settings = build_settings(options)
    # RenderConfig.enabled, read before the render phase (and its 50 ms of imports) is loaded.
    if not (settings.getbool("ARCHIVE_RENDER") or settings.getlist("ARCHIVE_RENDER_DOMAINS")):
        return True
    if exit_code_for(manifest_path, renders=False) == EXIT_INCOMPLETE:
        return True
    from crawler.render.phase import RenderConfig, run_render_phase

    return run_render_phase(RenderConfig.from_settings(settings))
