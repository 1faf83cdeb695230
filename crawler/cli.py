"""The command line: `citearchive COMMAND ...`, one module per command in crawler/commands/."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from typing import NoReturn

from archive.exceptions import ArchiveError, LockedError
from crawler.commands import archive, demo, enqueue, export, finalize, recrawl, replay, report, worker
from crawler.commands import robustlinks
from crawler.commands.common import UsageError
from crawler.exitcodes import EXIT_INTERNAL, EXIT_LOCKED, EXIT_USAGE

COMMANDS = (archive, demo, replay, export, recrawl, report, enqueue, worker, finalize, robustlinks)


class Parser(argparse.ArgumentParser):
    """Usage errors on one line, with exit code 2 (its subcommands' parsers are of this class too)."""

    # "argument --timeout: --timeout must be ...": the range's message names its option already.
    _REDUNDANT = re.compile(r"^argument [^ ]+: (?=-)")

    def error(self, message: str) -> NoReturn:
        message = self._REDUNDANT.sub("", message)
        self.exit(EXIT_USAGE, f"citearchive: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="citearchive",
        description="Archive the sources a post cites as replayable WARC snapshots.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except UsageError as exc:
        print(f"citearchive: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LockedError as exc:
        print(f"citearchive: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        print("citearchive: interrupted", file=sys.stderr)
        return 130
    except (ArchiveError, OSError) as exc:
        if args.debug:
            raise
        print(f"citearchive: error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if args.debug:
            raise
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        print(f"citearchive: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
