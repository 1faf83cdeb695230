"""`citearchive finalize --redis URL --out DIR`: merge the workers' output into the run's manifest and index."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from crawler.commands.archive import DEFAULT_OUT
from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import add_log_options, check_output_dir, verbosity
from crawler.exitcodes import EXIT_INCOMPLETE

EXAMPLES = """\
examples:
  citearchive finalize --redis redis://queue.example:6379/0 --out /srv/citearchive
  citearchive finalize --redis redis://127.0.0.1:6379/0 --out data --wait 600

exit codes: as `citearchive archive`, and 4 when workers are still running or queued
work remains, or when lost work was re-enqueued (run workers, then finalize again).
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "finalize",
        help="merge a distributed run into its manifest and index",
        description=(
            "Collect every worker's WARCs and journal under OUT/workers/ into the collection, re-enqueue "
            "citations lost with a worker that died, and once none is missing write the manifest and index."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--redis", required=True, metavar="URL", help="the run's Redis, redis://HOST:PORT/DB")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--wait",
        type=bounded("wait"),
        default=0,
        metavar="SECONDS",
        help=help_text("wait", "wait this long for workers to finish", 0),
    )
    add_log_options(parser)
    parser.add_argument("--keep", action="store_true", help="keep the run in Redis after writing its manifest")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.distributed.extra import require_distributed

    require_distributed()
    from crawler.distributed import state
    from crawler.distributed.finalize import finalize_run
    from crawler.summary import summarize

    check_output_dir(args.out)
    client = state.connect(args.redis)
    run_info = state.require_run(client, args.redis)
    log_run(args, run_info.collection, run_info.run_id)
    deadline = time.monotonic() + args.wait
    while True:
        live, queued = state.live_workers(client, run_info), state.queued(client, run_info)
        if not live and not queued:
            break
        if time.monotonic() >= deadline:
            print(
                f"run {run_info.run_id} is not done: {len(live)} worker(s) alive ({', '.join(live[:5]) or '-'}), "
                f"{queued} task(s) or request(s) queued; finalize after they finish (or pass --wait SECONDS)"
            )
            return EXIT_INCOMPLETE
        time.sleep(0.5)
    result = finalize_run(client, run_info, args.out)
    if result.manifest_path is None:
        for task in result.requeued:
            print(f"re-enqueued {task['kind']}: {task['url']}")
        print(
            f"run {run_info.run_id}: {len(result.requeued)} task(s) had no outcome (a worker died) and were "
            "re-enqueued; run `citearchive worker`, then finalize again"
        )
        return EXIT_INCOMPLETE
    if not args.keep:
        state.end_run(client, run_info)
    return summarize(result.manifest_path, args.out, run_info.collection, quiet=args.quiet)


def log_run(args: argparse.Namespace, collection: str, run_id: str) -> None:
    """Finalize's log lines go to the run's log file (OUT/collections/NAME/logs/RUN_ID.log) and the terminal."""
    from scrapy.settings import Settings

    from crawler.runlog import install_run_log, log_settings

    install_run_log(Settings(log_settings(args.out, collection, run_id, verbosity(args))), verbosity(args))
