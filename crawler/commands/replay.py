"""`citearchive replay`: serve the archive through pywb and a landing page, on two origins."""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path
from typing import Any

from crawler.commands.bounds import bounded, help_text
from crawler.commands.common import UsageError

DEFAULT_OUT = Path("citearchive-data")

EXAMPLES = """\
examples:
  citearchive replay --out demo-output            landing page on http://127.0.0.1:8080/
  citearchive replay --out data --port 9000       landing on :9000, archived pages on :9001

The landing page lists collections, posts and citations; archived copies open on the archive
origin (--archive-port, default PORT+1), a different origin from the landing page.
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay",
        help="browse archived citations (pywb) from a landing page",
        description="Serve the archive through pywb, with a landing page listing posts and their citations.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=bounded("port"),
        default=8080,
        help=help_text("port", "landing page port; 0: any free port", 8080),
    )
    parser.add_argument("--archive-host", metavar="HOST", help="address of the archive origin (default: --host)")
    parser.add_argument(
        "--archive-port",
        type=bounded("archive_port"),
        metavar="PORT",
        help=help_text("archive_port", "archive origin port; any free port with --port 0", "PORT+1"),
    )
    parser.add_argument(
        "--max-decoded",
        type=bounded("max_decoded"),
        metavar="MIB",
        default=64,
        help=help_text("max_decoded", "most of one body decoded in replay", 64),
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no access log")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.port and args.archive_port is None and args.port == 65535:
        raise UsageError("--port 65535 leaves no PORT+1 for the archive origin: give --archive-port")
    collections = args.out / "collections"
    if not collections.is_dir():
        raise UsageError(f"no collections in {str(args.out)!r}: run `citearchive archive ... --out {args.out}` first")
    try:
        import pywb  # noqa: F401 - the replay extra
    except ImportError as exc:
        raise UsageError("replay needs pywb: pip install 'citearchive[replay]'") from exc

    from archive.replay.server import ReplayOptions, serve

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="[%(name)s] %(message)s")
    # pywb's module imports gevent's patch_all(); ssl was imported before it by the CLI. Replay
    # serves local files and never opens TLS, so the unpatched ssl module is never used.
    warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl has already been imported")
    # pywb imports pyamf, which imports setuptools' deprecated pkg_resources: a warning that
    # would be the replay's first line and says nothing to its user (as in archive/cdxj.py).
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    options = ReplayOptions(
        out=args.out,
        host=args.host,
        port=args.port,
        archive_host=args.archive_host,
        archive_port=args.archive_port,
        max_decoded=int(args.max_decoded * 1024 * 1024),
    )

    def ready(landing: str, archive: str) -> None:
        print(f"Landing page: {landing}", flush=True)
        print(f"Archive:      {archive}  (pywb: /COLLECTION/TIMESTAMP/URL, /COLLECTION/timemap/link/URL)", flush=True)
        print("Stop with Ctrl-C.", flush=True)

    try:
        serve(options, ready)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}: {exc.strerror or exc}") from exc
    return 0
