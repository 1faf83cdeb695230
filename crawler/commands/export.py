"""`citearchive export --wacz FILE`: package a collection as one WACZ file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler.commands.common import UsageError, check_collection_name

DEFAULT_OUT = Path("citearchive-data")
DEFAULT_COLLECTION = "citations"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="package a collection as a WACZ file",
        description="Write a collection's WARCs, index and cited pages as one WACZ file (spec 1.1.1).",
    )
    parser.add_argument("--wacz", type=Path, required=True, metavar="FILE", help="the WACZ file to write")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument(
        "--collection", default=DEFAULT_COLLECTION, help=f"collection to export (default {DEFAULT_COLLECTION})"
    )
    parser.add_argument("--title", help="title in datapackage.json (default: the collection name)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from archive.collection import Collection
    from archive.wacz import WaczError, write_wacz

    check_collection_name(args.collection)
    collection = Collection(args.out, args.collection)
    if not collection.root.is_dir():
        raise UsageError(f"no collection {args.collection!r} in {str(args.out)!r}")
    if not args.wacz.name.endswith(".wacz"):
        raise UsageError(f"{str(args.wacz)!r}: a WACZ file name ends in .wacz")
    if not args.wacz.parent.is_dir():
        raise UsageError(f"directory {str(args.wacz.parent)!r} does not exist")
    try:
        summary = write_wacz(collection, args.wacz, args.title)
    except WaczError as exc:
        raise UsageError(str(exc)) from exc
    print(f"Wrote {summary.path}: {summary.warc_files} WARC file(s), {summary.pages} page(s) (posts and cited pages), {summary.bytes} bytes")
    return 0
