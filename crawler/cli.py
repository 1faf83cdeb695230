"""The command line: `citearchive COMMAND ...`, one module per command in crawler/commands/."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import NoReturn

# Only what handles signals is imported before main() runs: a Ctrl-C during the
# commands' imports (a third of a second) is then answered in one line, not a traceback.
from crawler import stopsignals
from crawler.stopsignals import Interrupted


class Parser(argparse.ArgumentParser):
    """Usage errors on one line, with exit code 2 (its subcommands' parsers are of this class too)."""

    # "argument --timeout: --timeout must be ...": the range's message names its option already.
    _REDUNDANT = re.compile(r"^argument [^ ]+: (?=-)")

    def error(self, message: str) -> NoReturn:
        from crawler.exitcodes import EXIT_USAGE

        message = self._REDUNDANT.sub("", message)
        self.exit(EXIT_USAGE, f"citearchive: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from crawler.commands import (
        archive, citations, demo, enqueue, export, finalize, recrawl, replay, report, robustlinks, worker,
    )  # fmt: skip

    parser = Parser(
        prog="citearchive",
        description="Archive the sources a post cites as replayable WARC snapshots.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (archive, citations, demo, replay, export, recrawl, report, enqueue, worker, finalize, robustlinks):
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``citearchive ARGV`` (``sys.argv[1:]`` when None, as the console script calls it); return the exit code.

    SIGINT and SIGTERM are handled from the first line (crawler/stopsignals.py). Called with
    ``argv`` (in-process, as tests do), the signal handlers it replaced are put back on return.
    As the program (``argv`` None) it ends the process itself, once its output is flushed:
    Python's teardown puts its default handlers back first, so a signal then would kill the
    process (-2, -15) or print a KeyboardInterrupt traceback after a run that succeeded.
    """
    stop = stopsignals.install()  # first: SIGINT and SIGTERM are answered from here on
    try:
        code = _exit_code(stop, argv)
    except BaseException:
        stopsignals.uninstall(stop)
        raise
    if argv is None:
        stop.finished(code)  # from here a signal exits with the command's code
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)
    stopsignals.uninstall(stop)
    return code


def _exit_code(stop: stopsignals.StopSignals, argv: list[str] | None) -> int:
    try:
        code = _main(argv)
    except Interrupted as exc:
        # Raised only where nothing had begun that a stop must finish (crawls and renders finish theirs).
        print(f"citearchive: interrupted ({exc})", file=sys.stderr)
        return exc.exit_code
    # A signal that stopped the run before it was complete: 130 (SIGINT) or 143 (SIGTERM).
    # One that came when only the manifest was left to write did not: the run's own code.
    if stop.exit_code is not None and code != 0:
        return stop.exit_code
    return code


def _main(argv: list[str] | None) -> int:
    from archive.exceptions import ArchiveError, LockedError
    from crawler.commands.common import UsageError
    from crawler.exitcodes import EXIT_INTERNAL, EXIT_LOCKED, EXIT_USAGE

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
    except Interrupted:
        raise
    except KeyboardInterrupt:  # a command that put Python's own SIGINT handler back (none does)
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
