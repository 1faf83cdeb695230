"""What several subcommands share: the usage error, output options and input checks."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


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
