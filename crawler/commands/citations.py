"""`citearchive citations SOURCE...`: what a run would archive, fetching nothing but the posts."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.commands.archive import (
    DEFAULT_COLLECTION,
    DEFAULT_OUT,
    check_sources,
    expand_source_lists,
    resolver_overrides,
    setting_overrides,
)
from crawler.commands.common import (
    add_fetch_options,
    add_rules_option,
    check_collection_name,
    check_rules,
    fetch_overrides,
    verbosity,
)

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from crawler.items import PostItem

EXAMPLES = """\
examples:
  citearchive citations https://blog.example/2018/10/some-post/
  citearchive citations post.md --base https://blog.example/ --json
  citearchive citations https://blog.example/post/ --rules fixes.toml   # check a correction before archiving

The post pages (and a feed's entries) are fetched as `archive` fetches them: the same SSRF guard,
User-Agent, timeout and size cap; no cited page, requisite or robots.txt is requested, no WARC is
written and no collection is touched (only its rules.toml is read, when it has one).

--json prints {"posts": [{"source", "url", "title", "published", "status", "extraction",
"citations": [{"n", "url", "anchor_text", "context"}, ...]}]}, with the manifest's field names;
a citation no request can be made for also has "reason", a post that could not be read "reason".

exit codes: 0 every post was read, 1 internal error, 2 bad input (a source, --base, a rules file),
3 a post could not be fetched or read, 4 stopped before every post was read (130/143: SIGINT/SIGTERM)
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "citations",
        help="list what the posts cite, as a run would archive it, without archiving",
        description="Read the posts and print each one's citations (n, URL, anchor text, context) and how "
        "they were found; fetch nothing but the posts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="post URL, feed URL, local .html/.md post, .xml/.rss/.atom feed, .txt list of URLs, or - (URLs on stdin)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--base", metavar="URL", help="base URL for relative links in local files")
    parser.add_argument("--include-internal", action="store_true", help="also list links to the post's own site")
    parser.add_argument("--since", metavar="DATE", help="feeds: only entries published on or after DATE (YYYY-MM-DD)")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where the collection is (default {DEFAULT_OUT}); only read"
    )
    parser.add_argument(
        "--collection",
        default=DEFAULT_COLLECTION,
        help=f"the collection whose rules.toml applies, when it has one (default {DEFAULT_COLLECTION})",
    )
    add_rules_option(parser)
    add_fetch_options(parser)
    parser.add_argument(
        "--resolve", action="append", default=[], metavar="HOST:ADDRESS[,ADDRESS]",
        help="answer for HOST without DNS, like curl's --resolve (the SSRF guard still applies)",
    )  # fmt: skip
    parser.add_argument("--dns-server", metavar="HOST[:PORT]", help="resolve names with this DNS server (IPv4 answers)")
    parser.add_argument(
        "--trust-host", action="append", default=[], metavar="HOST",
        help="let the SSRF guard pass this host name (e.g. an internal mirror); proxies are trusted already",
    )  # fmt: skip
    parser.add_argument(
        "-s", "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
        help="set a Scrapy setting, like `scrapy crawl -s`",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="show the crawl's log (Scrapy's) on stderr")
    parser.set_defaults(run=run)


def list_settings(args: argparse.Namespace, rules_files: list[Path]) -> Settings:
    """A run's settings (crawler/runner.py), less everything that archives: the posts are read, nothing written."""
    from crawler.runner import CrawlOptions, build_settings
    from crawler.settings import DOWNLOADER_MIDDLEWARES, EXTENSIONS, SPIDER_MIDDLEWARES

    overrides: dict[str, Any] = {"ARCHIVE_SINCE": args.since or "", **fetch_overrides(args), **resolver_overrides(args)}
    options = CrawlOptions(
        sources=args.sources,
        out=args.out,
        collection=args.collection,
        allow_private=args.allow_private,
        base_url=args.base,
        include_internal=args.include_internal,
        overrides={**overrides, **setting_overrides(args.settings)},
        trusted_hosts=list(args.trust_host),
        verbosity=verbosity(args),
    )
    settings = build_settings(options)
    archiving = {
        "crawler.middlewares.capture.CaptureMiddleware",  # no WARC record
        "crawler.middlewares.robots.RobotsMiddleware",  # no robots.txt request
        "crawler.extensions.warcsink.WarcSink",
        "crawler.extensions.progress.Progress",
        "crawler.spidermiddlewares.probe.SoftNotFoundProbe",  # no soft-404 probe
    }
    settings.setdict(
        {
            "ARCHIVE_RULES": [str(path) for path in rules_files],  # the collection's already among them
            "ARCHIVE_OUT": "",  # so the spider looks for no rules.toml of its own
            "ARCHIVE_REQUISITES": False,
            "ARCHIVE_RESUME": False,
            "LOG_FILE": None,  # the terminal only: nothing is written under OUT
            "ITEM_PIPELINES": {"crawler.pipelines.postlist.PostCollector": 800},
            "DOWNLOADER_MIDDLEWARES": {**DOWNLOADER_MIDDLEWARES, **dict.fromkeys(archiving & set(DOWNLOADER_MIDDLEWARES))},
            "EXTENSIONS": {**EXTENSIONS, **dict.fromkeys(archiving & set(EXTENSIONS))},
            "SPIDER_MIDDLEWARES": {**SPIDER_MIDDLEWARES, **dict.fromkeys(archiving & set(SPIDER_MIDDLEWARES))},
        },
        priority="cmdline",
    )
    return settings


def run(args: argparse.Namespace) -> int:
    from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK, EXIT_POST_FAILED
    from crawler.pipelines.postlist import PostCollector
    from crawler.runlog import install_run_log
    from crawler.runner import crawl
    from crawler.spiders.citationlist import CitationListSpider

    check_collection_name(args.collection)
    expand_source_lists(args)
    check_sources(args.sources, args.base)
    rules_files, _ = check_rules(args.out, args.collection, args.rules)
    settings = list_settings(args, rules_files)
    install_run_log(settings, verbosity(args))
    crawler = crawl(settings, CitationListSpider)
    collector = crawler.get_item_pipeline(PostCollector)
    posts = sorted_posts(collector.posts if collector is not None else [], args.sources)
    listed = [post_json(item) for item in posts]
    if args.json:
        json.dump({"posts": listed}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print_posts(listed)
    reason = crawler.stats.get_value("finish_reason") if crawler.stats is not None else None
    if any(post["status"] != "read" for post in listed):
        return EXIT_POST_FAILED
    return EXIT_OK if reason == "finished" else EXIT_INCOMPLETE


def sorted_posts(posts: list[PostItem], sources: list[str]) -> list[PostItem]:
    """In the order of the sources given; a feed's entries newest first (they arrive in any order)."""
    order = {source: number for number, source in enumerate(sources)}

    def key(item: PostItem) -> tuple[int, str, str]:
        position = order.get(item.feed or item.source, len(order))
        return (position, _inverted(item.published or ""), item.source)

    return sorted(posts, key=key)


def _inverted(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


def post_json(item: PostItem) -> dict[str, Any]:
    """One post as ``--json`` prints it: the manifest's field names, no capture."""
    snapshot = item.snapshot
    status = "read" if snapshot is None or snapshot.status == "archived" else snapshot.status
    post: dict[str, Any] = {
        "source": item.source,
        "url": item.url,
        "title": item.title,
        "published": item.published,
        "status": status,
    }
    if item.feed is not None:
        post["feed"] = item.feed
    if status != "read" and snapshot is not None:
        post["reason"] = snapshot.reason
    post["extraction"] = item.extraction
    post["citations"] = [_citation_json(citation) for citation in item.citations]
    return post


def _citation_json(entry: dict[str, Any]) -> dict[str, Any]:
    citation = {name: entry[name] for name in ("n", "url", "anchor_text", "context")}
    capture = entry.get("capture")
    if capture is not None:  # a URL no request can be made for: skipped, with why
        citation["reason"] = capture.get("reason")
    return citation


def print_posts(posts: list[dict[str, Any]]) -> None:
    from crawler.summary import extraction_line

    for number, post in enumerate(posts):
        if number:
            print()
        print(post["title"] or post["url"] or post["source"])
        print(f"  source:    {post['source']}")
        if post["url"] and post["url"] != post["source"]:
            print(f"  url:       {post['url']}")
        if post["status"] != "read":
            print(f"  post {post['status']}: {post.get('reason')}")
            continue
        print(f"  published: {post['published'] or 'unknown'}")
        extraction = post["extraction"] or {}
        rule = f"  (rule: {extraction['rule']})" if extraction.get("rule") else ""
        print(f"  container: {extraction.get('container')}{rule}")
        line = extraction_line(extraction)
        if line is not None:
            print(f"  {line}")
        citations = post["citations"]
        print(f"  {len(citations)} citation{'' if len(citations) == 1 else 's'}")
        for citation in citations:
            print(f"  {citation['n']:>4}  {citation['url']}")
            if citation.get("reason"):
                print(f"        skipped: {citation['reason']}")
            if citation["anchor_text"] and citation["anchor_text"] != citation["url"]:
                print(f"        “{citation['anchor_text']}”")
            if citation["context"]:
                print(textwrap.fill(citation["context"], 100, initial_indent="        ", subsequent_indent="        "))
