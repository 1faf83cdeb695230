"""`citearchive report --collection NAME`: link rot and drift per citation, as HTML or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.commands.archive import DEFAULT_COLLECTION, DEFAULT_OUT
from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import UsageError, add_output_options, check_collection_name

EXAMPLES = """\
examples:
  citearchive report --collection citations --out data/ -o report.html
  citearchive report --out data/ --format json | jq '.totals'
  citearchive report --out data/ --failures 5 --min-days 14 --drift-threshold 0.3

exit codes (for cron):
  0  report written; no new rot or drift since the previous run
  5  report written; a citation newly rotted (at risk or dead) or drifted in the latest run
  1  internal error
  2  bad input (no such collection, bad option)
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="report link rot and content drift of a collection's citations",
        description="Per post: citations alive, at risk, dead or drifted, their first and best captures and a timeline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_output_options(parser, DEFAULT_OUT, DEFAULT_COLLECTION)
    parser.add_argument("--format", choices=("html", "json"), default="html", help="output format (default html)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of standard output")
    parser.add_argument(
        "--failures", type=bounded("failures"), default=3, metavar="N",
        help=help_text("failures", "failures in a row before dead", 3),
    )
    parser.add_argument(
        "--min-days", type=bounded("min_days"), default=3.0, metavar="D",
        help=help_text("min_days", "days those failures must span before dead", 3),
    )
    parser.add_argument(
        "--drift-threshold", type=bounded("drift_threshold"), default=0.2, metavar="X",
        help=help_text("drift_threshold", "flag drift when more than this share of the text changed", 0.2),
    )
    parser.add_argument("--replay-base", default="http://localhost:8080", metavar="URL",
                        help="where pywb serves the collection, for the capture links")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archive.atomic import atomic_write_text
    from archive.catalog import Catalog
    from archive.collection import Collection
    from archive.report import Policy, build_report, render_html
    from crawler.exitcodes import EXIT_NEW_FINDINGS, EXIT_OK

    check_collection_name(args.collection)
    collection = Collection(args.out, args.collection)
    if not collection.manifests_dir.is_dir():
        raise UsageError(f"no collection {args.collection!r} under {str(args.out)!r}")
    with Catalog.open(collection) as catalog:
        report = build_report(collection, catalog, Policy(args.failures, args.min_days, args.drift_threshold))
    if args.format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_html(report, args.replay_base)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            atomic_write_text(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {str(args.output)!r}: {exc.strerror or exc}") from exc
        totals = report["totals"]
        print(
            f"{args.output}: {totals['alive']} alive, {totals['at-risk']} at risk, {totals['dead']} dead, "
            f"{totals['drifted']} drifted; {totals['new_rot']} new rot, {totals['new_drift']} new drift",
            file=sys.stderr,
        )
    new = report["totals"]["new_rot"] + report["totals"]["new_drift"]
    return EXIT_NEW_FINDINGS if new else EXIT_OK
