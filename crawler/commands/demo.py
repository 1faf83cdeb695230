"""`citearchive demo`: archive the bundled sample post, served on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler.commands.archive import DEFAULT_COLLECTION
from crawler.commands.common import (
    add_log_options,
    add_output_options,
    check_collection_name,
    check_output_dir,
    verbosity,
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "demo",
        help="archive a bundled sample post whose sources are served on 127.0.0.1",
        description="Serve the bundled sample post and its cited pages on 127.0.0.1 and archive them.",
    )
    # The collection every other command defaults to, so `report`, `export` and `recrawl`
    # find the demo's with --out alone.
    add_output_options(parser, Path("demo-output"), DEFAULT_COLLECTION)
    add_log_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.demo.command import run_demo

    check_collection_name(args.collection)
    check_output_dir(args.out)
    return run_demo(args.out, args.collection, verbosity(args))
