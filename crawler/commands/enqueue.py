"""`citearchive enqueue SOURCE... --redis URL`: put posts and their citations on a distributed run's frontier."""

from __future__ import annotations

import argparse
from typing import Any

from crawler.commands.archive import DEFAULT_COLLECTION, check_sources
from crawler.commands.common import add_rules_option, check_collection_name, check_rules

EXAMPLES = """\
examples:
  citearchive enqueue https://blog.example/2018/10/some-post/ --redis redis://queue.example:6379/0
  citearchive enqueue post.html notes.md --base https://blog.example/ --redis redis://127.0.0.1:6379/0

A post URL is fetched, archived and read by a worker; a local file is read here and
its citations are enqueued. Then run `citearchive worker` (any number) and `citearchive finalize`.
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "enqueue",
        help="enqueue posts for distributed workers (Redis)",
        description="Add posts and their citations to the run in Redis that `citearchive worker` processes.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="post URL, or a local .html or .md file")
    parser.add_argument("--redis", required=True, metavar="URL", help="the run's Redis, redis://HOST:PORT/DB")
    parser.add_argument("--collection", default=DEFAULT_COLLECTION, help=f"collection name (default {DEFAULT_COLLECTION})")
    parser.add_argument("--base", metavar="URL", help="base URL for relative links in local files")
    parser.add_argument("--include-internal", action="store_true", help="keep links to a local post's own site")
    add_rules_option(parser)  # for local posts, read here; give the workers the same --rules for post URLs
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.distributed.extra import require_distributed

    require_distributed()
    from crawler.distributed import state, tasks
    from crawler.sources import load_local_post, parse_source
    from crawler.spiders.citations import post_id_for

    check_collection_name(args.collection)
    check_sources(args.sources, args.base)
    _, rules = check_rules(None, None, args.rules)
    client = state.connect(args.redis)
    run_info = state.open_run(client, args.collection)
    pushed = 0
    for raw in args.sources:
        source = parse_source(raw)
        post_id = post_id_for(raw)
        if source.kind == "url":
            state.register_post(client, run_info, post_id, raw, url=source.location)
            pushed += state.push_tasks(client, run_info, [tasks.post_task(raw, source.location)])
            continue
        document = load_local_post(source, base_url=args.base, include_internal=args.include_internal, rules=rules)
        entry = tasks.local_post_entry(post_id, raw, document)
        state.register_post(client, run_info, post_id, raw, entry=entry)
        pushed += state.push_tasks(client, run_info, tasks.citation_tasks(document))
    print(
        f"run {run_info.run_id} (collection {run_info.collection}): enqueued {len(args.sources)} post(s), "
        f"{pushed} task(s)"
    )
    return 0
