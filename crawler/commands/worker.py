"""`citearchive worker --redis URL --out DIR`: one crawl process sharing a run's frontier with other workers."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler.commands.archive import DEFAULT_OUT
from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import (
    UsageError,
    add_fetch_options,
    add_log_options,
    add_rules_option,
    check_output_dir,
    check_rules,
    fetch_overrides,
    verbosity,
)
from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK

EXAMPLES = """\
examples:
  citearchive worker --redis redis://queue.example:6379/0 --out /srv/citearchive
  citearchive worker --redis redis://127.0.0.1:6379/0 --out data --idle-exit 30 --worker-id host1-a

Files go to OUT/workers/WORKER_ID/collections/NAME/ until `citearchive finalize` collects them.
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "worker",
        help="crawl a distributed run's frontier (Redis, scrapy-redis)",
        description="Archive citations from the run in Redis, alongside any number of other workers.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--redis", required=True, metavar="URL", help="the run's Redis, redis://HOST:PORT/DB")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--worker-id", metavar="ID", help="name in file names and Redis (default HOST-random)")
    parser.add_argument(
        "--idle-exit",
        type=bounded("idle_exit"),
        default=0,
        metavar="SECONDS",
        help=help_text("idle_exit", "exit after this long without work", "0: never"),
    )
    parser.add_argument(
        "--heartbeat", type=bounded("heartbeat"), default=5.0, metavar="SECONDS",
        help=help_text("heartbeat", "liveness beat to Redis; dead after three missed", 5),
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=bounded("concurrency"), metavar="N",
        help=help_text("concurrency", "requests in flight in this worker", 16),
    )  # fmt: skip
    parser.add_argument(
        "--per-host", type=bounded("per_host"), metavar="N",
        help=help_text("per_host", "requests in flight per host in this worker", 1),
    )  # fmt: skip
    add_fetch_options(parser)
    add_rules_option(parser)
    add_log_options(parser)
    parser.set_defaults(run=run)


def worker_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The crawl options a worker takes, as Scrapy settings (their ranges were checked as they were parsed)."""
    overrides = fetch_overrides(args)
    if args.concurrency is not None:
        overrides["CONCURRENT_REQUESTS"] = args.concurrency
    if args.per_host is not None:
        overrides["CONCURRENT_REQUESTS_PER_DOMAIN"] = args.per_host
    return overrides


def run(args: argparse.Namespace) -> int:
    from crawler.distributed.extra import require_distributed

    require_distributed()
    from crawler.distributed import state
    from crawler.distributed.keys import valid_worker_id
    from crawler.distributed.worker import WorkerOptions, default_worker_id, heartbeat_ttl, run_worker

    worker_id = args.worker_id or default_worker_id()
    if not valid_worker_id(worker_id):
        raise UsageError(f"invalid --worker-id {worker_id!r}: use up to 63 letters, digits, '-' or '_'")
    overrides = worker_overrides(args)
    check_output_dir(args.out)
    client = state.connect(args.redis)
    run_info = state.require_run(client, args.redis)
    # The files live under OUT, not under the worker's staging tree the spider's ARCHIVE_OUT names.
    rules_files, _ = check_rules(args.out, run_info.collection, args.rules)
    if rules_files:
        overrides["ARCHIVE_RULES"] = [str(path) for path in rules_files]
    options = WorkerOptions(
        redis_url=args.redis,
        run=run_info,
        worker_id=worker_id,
        out=args.out,
        allow_private=args.allow_private,
        idle_exit=args.idle_exit,
        heartbeat=args.heartbeat,
        overrides=overrides,
        verbosity=verbosity(args),
    )
    if not state.claim_worker(client, run_info, worker_id, heartbeat_ttl(options)):
        raise UsageError(f"a worker with id {worker_id!r} is running in run {run_info.run_id}: pick another --worker-id")
    from crawler.stopsignals import installed

    quiet = options.verbosity == "quiet"
    with installed().finishing():  # SIGINT/SIGTERM: requests cut and handed back to the queue, 130/143
        if not quiet:
            print(f"worker {worker_id}: run {run_info.run_id}, staging in {options.staging}", flush=True)
        reason = run_worker(options)
        if not quiet:
            print(f"worker {worker_id}: stopped ({reason}); its log: {options.log_path}", flush=True)
    return EXIT_OK if reason == "finished" else EXIT_INCOMPLETE
