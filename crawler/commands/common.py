"""What several subcommands share: the usage error, output options and input checks."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.commands.bounds import bounded, help_text

if TYPE_CHECKING:
    from crawler.rules import Rules
    from crawler.runlog import Verbosity


class UsageError(Exception):
    """Bad input: reported on one line with exit code 2."""


def add_output_options(parser: argparse.ArgumentParser, default_out: Path, default_collection: str) -> None:
    parser.add_argument("--out", type=Path, default=default_out, help=f"output directory (default {default_out})")
    parser.add_argument(
        "--collection", default=default_collection, help=f"collection name (default {default_collection})"
    )


def add_log_options(parser: argparse.ArgumentParser) -> None:
    """``-v``/``-q``: what reaches the terminal; the run's log file (logs/RUN_ID.log) always has it all."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show the crawl's log here too (Scrapy's, every request: DEBUG, also in the log file)",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", help="print only warnings and errors: no progress line, no summary"
    )


def check_output_dir(out: Path) -> None:
    """Fail early, with one line, when the output directory cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write to output directory {str(out)!r}: {exc.strerror or exc}") from exc


def check_collection_name(name: str) -> None:
    if not name or name.startswith(".") or any(ch in name for ch in "/\\\0") or name != name.strip():
        raise UsageError(f"invalid collection name {name!r}: use letters, digits, '-' or '_'")


def verbosity(args: argparse.Namespace) -> Verbosity:
    if getattr(args, "verbose", False):
        return "verbose"
    return "quiet" if getattr(args, "quiet", False) else "default"


def add_rules_option(parser: argparse.ArgumentParser) -> None:
    """``--rules FILE``: corrections by hand (crawler/rules.py), on top of the collection's rules.toml."""
    parser.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="FILE",
        help="TOML rules correcting what is cited: the article body's CSS selector, blocks to drop, URLs always "
        "or never cited, citations to add (repeatable; applied after the collection's own rules.toml; "
        "see docs/citations.md)",
    )


def check_rules(out: Path | None, collection: str | None, extra: list[str]) -> tuple[list[Path], Rules]:
    """The run's rules files (the collection's rules.toml when present, then ``extra``), read and checked
    before anything is fetched: a bad file is a one-line usage error (``PATH:LINE: what``)."""
    from crawler.rules import RulesError, load_rules, rules_paths

    paths = rules_paths(out, collection, extra)
    try:
        return paths, load_rules(paths)
    except RulesError as exc:
        raise UsageError(str(exc)) from exc


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """How requests are made: the options every crawling command shares."""
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let the crawler fetch loopback and private addresses (off by default: SSRF guard)",
    )
    parser.add_argument(
        "--timeout",
        type=bounded("timeout"),
        metavar="SECONDS",
        help=help_text("timeout", "download timeout per request", 30),
    )
    parser.add_argument(
        "--max-size",
        type=bounded("max_size"),
        metavar="MIB",
        help=help_text("max_size", "largest response to archive", 50),
    )
    parser.add_argument("--user-agent", metavar="UA", help="User-Agent header to send")
    parser.add_argument(
        "--retries", type=bounded("retries"), metavar="N", help=help_text("retries", "retries on 5xx, 408, 429 and timeouts", 2)
    )
    parser.add_argument(
        "--delay",
        type=bounded("delay"),
        metavar="SECONDS",
        help=help_text("delay", "pause between requests to the same host", 0.25),
    )


def fetch_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The fetch options as Scrapy settings (their ranges were checked as they were parsed)."""
    settings = {
        "timeout": "DOWNLOAD_TIMEOUT",
        "max_size": "DOWNLOAD_MAXSIZE",
        "retries": "RETRY_TIMES",
        "delay": "DOWNLOAD_DELAY",
    }
    overrides: dict[str, Any] = {}
    for attribute, setting in settings.items():
        value = getattr(args, attribute, None)
        if value is not None:
            overrides[setting] = max(1, int(value * 1024 * 1024)) if attribute == "max_size" else value
    if getattr(args, "user_agent", None):
        overrides["USER_AGENT"] = args.user_agent
    return overrides
