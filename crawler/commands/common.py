"""What several subcommands share: the usage error, output options and input checks."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import Any


class UsageError(Exception):
    """Bad input: reported on one line with exit code 2."""


def add_output_options(parser: argparse.ArgumentParser, default_out: Path, default_collection: str) -> None:
    parser.add_argument("--out", type=Path, default=default_out, help=f"output directory (default {default_out})")
    parser.add_argument(
        "--collection", default=default_collection, help=f"collection name (default {default_collection})"
    )


def add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request (DEBUG)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")


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


def log_level(args: argparse.Namespace, interactive: bool) -> str:
    if args.verbose:
        return "DEBUG"
    if args.quiet or interactive:
        return "WARNING"
    return "INFO"


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """How requests are made: the options every crawling command shares."""
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let the crawler fetch loopback and private addresses (off by default: SSRF guard)",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="download timeout per request (default 30)")
    parser.add_argument("--max-size", type=float, metavar="MIB", help="largest response to archive, in MiB (default 50)")
    parser.add_argument("--user-agent", metavar="UA", help="User-Agent header to send")
    parser.add_argument("--retries", type=int, metavar="N", help="retries on 5xx and timeouts (default 2)")
    parser.add_argument(
        "--delay", type=float, metavar="SECONDS", help="pause between requests to the same host (default 0.25)"
    )


def fetch_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The fetch options as Scrapy settings; a bad value is a usage error."""
    checks: tuple[tuple[str, str, Callable[[float], bool], str], ...] = (
        ("timeout", "DOWNLOAD_TIMEOUT", lambda v: v > 0, "--timeout must be a positive number of seconds"),
        ("max_size", "DOWNLOAD_MAXSIZE", lambda v: v > 0, "--max-size must be a positive number of MiB"),
        ("retries", "RETRY_TIMES", lambda v: v >= 0, "--retries must be 0 or more"),
        ("delay", "DOWNLOAD_DELAY", lambda v: v >= 0, "--delay must be 0 or more seconds"),
    )
    overrides: dict[str, Any] = {}
    for attribute, setting, valid, message in checks:
        value = getattr(args, attribute, None)
        if value is None:
            continue
        if not valid(value):
            raise UsageError(message)
        overrides[setting] = int(value * 1024 * 1024) if attribute == "max_size" else value
    if getattr(args, "user_agent", None):
        overrides["USER_AGENT"] = args.user_agent
    return overrides
