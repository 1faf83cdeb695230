"""`citearchive robustlinks MANIFEST`: a Robust Links copy of each post of an archiving run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler.commands.common import UsageError, add_log_options

EXAMPLES = """\
examples:
  citearchive robustlinks data/collections/citations/manifests/RUN_ID.json \\
      --replay-base https://archive.example.org/ --output post.robust.html

Each archived citation's <a> gets data-versionurl (REPLAY_BASE/COLLECTION/TIMESTAMP/URL)
and data-versiondate (YYYY-MM-DD). With several posts, --output is a directory.
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "robustlinks",
        help="write a Robust Links copy of the posts of a run",
        description="Write a copy of each post's HTML whose archived citations link to their archived versions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("manifest", type=Path, help="the run's manifest (OUT/collections/NAME/manifests/RUN_ID.json)")
    add_robust_link_options(parser, required=True)
    add_log_options(parser)
    parser.set_defaults(run=run)


def add_robust_link_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--robust-links" if not required else "--output",
        dest="robust_links",
        type=Path,
        required=required,
        metavar="FILE",
        help="write the post's HTML with data-versionurl/data-versiondate on each archived citation",
    )
    parser.add_argument(
        "--replay-base",
        required=required,
        metavar="URL",
        help="public URL of the pywb server the collection is replayed from",
    )


def check_robust_link_options(args: argparse.Namespace) -> None:
    from crawler.robustlinks import RobustLinksError, check_replay_base

    if args.robust_links is None:
        if args.replay_base:
            raise UsageError("--replay-base is only used with --robust-links FILE")
        return
    if not args.replay_base:
        raise UsageError("--robust-links needs --replay-base URL (the public address of the replay server)")
    try:
        check_replay_base(args.replay_base)
    except RobustLinksError as exc:
        raise UsageError(str(exc)) from exc


def write(manifest_path: Path, args: argparse.Namespace) -> list[Path]:
    from crawler.robustlinks import RobustLinksError, write_robust_links

    try:
        return write_robust_links(manifest_path, args.robust_links, args.replay_base)
    except (RobustLinksError, OSError) as exc:
        raise UsageError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    check_robust_link_options(args)
    for path in write(args.manifest, args):
        print(f"Robust Links: {path}")
    return 0
