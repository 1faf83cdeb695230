"""The range of every numeric option of every command, in one place: argparse types and help text."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BOUNDS", "PROCESSES_PER_CORE", "Bound", "available_cores", "bounded", "help_text"]

#: ``--processes`` may ask for this many crawl processes per core this process may run on.
PROCESSES_PER_CORE = 4


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, as ``taskset`` or a container sets it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Bound:
    """An option's least and greatest value (both allowed); NaN and infinities are always refused."""

    option: str
    low: float
    high: float
    unit: str = ""  # "seconds", "MiB", ...: how the help and the error name a value
    integer: bool = False
    why: str = ""  # said after the range in the error, when the range is not obvious

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{_number(self.low)} to {_number(self.high)}{unit}"

    def message(self, given: str) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        of = f" of {self.unit}" if self.unit else ""
        why = f" ({self.why})" if self.why else ""
        shown = given if len(given) <= 24 else given[:23] + "…"
        return (
            f"{self.option} must be {kind}{of} between {_number(self.low)} and {_number(self.high)}{why}, "
            f"not {shown!r}"
        )

    def parse(self, text: str) -> int | float:
        """The value ``text`` names, or :class:`argparse.ArgumentTypeError` with one line saying the range."""
        value: int | float
        try:
            value = int(text.strip(), 10) if self.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(self.message(text)) from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise argparse.ArgumentTypeError(self.message(text))
        return value


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _processes() -> Bound:
    cores = available_cores()
    return Bound(
        "--processes",
        1,
        PROCESSES_PER_CORE * cores,
        integer=True,
        why=f"{PROCESSES_PER_CORE} per available core, {cores} here",
    )


_DAY = 24 * 3600

#: Every numeric option, by its argparse ``dest``. An option shared by several commands has one range.
BOUNDS: dict[str, Bound] = {
    bound.option.lstrip("-").replace("-", "_"): bound
    for bound in (
        # Fetching (archive, recrawl, worker).
        Bound("--timeout", 0.1, 3600, "seconds"),
        # Scrapy holds a body in memory; below 1 MiB only to test the cap. Too small rounds to 0: no cap.
        Bound("--max-size", 0.0001, 1024, "MiB"),
        Bound("--retries", 0, 10, integer=True),
        Bound("--delay", 0, 60, "seconds"),
        Bound("--retry-after-max", 0, 3600, "seconds"),
        _processes(),
        # Waiting (recrawl for the collection's lock, finalize for the workers).
        Bound("--wait", 0, 7 * _DAY, "seconds"),
        # Workers.
        Bound("--idle-exit", 0, 7 * _DAY, "seconds", integer=True),
        Bound("--heartbeat", 0.5, 600, "seconds"),
        Bound("--concurrency", 1, 256, integer=True),
        Bound("--per-host", 1, 32, integer=True),
        # Replay.
        Bound("--port", 0, 65535, integer=True),
        Bound("--archive-port", 0, 65535, integer=True),
        Bound("--max-decoded", 0.0001, 1024, "MiB"),
        # Report.
        Bound("--failures", 1, 1000, integer=True),
        Bound("--min-days", 0, 3650, "days"),
        Bound("--drift-threshold", 0, 1),
    )
}


def bounded(dest: str) -> Callable[[str], int | float]:
    """The argparse ``type=`` of option ``dest``: a value in its range, else a one-line usage error."""
    bound = BOUNDS[dest]

    def parse(text: str) -> int | float:
        return bound.parse(text)

    parse.__name__ = "integer" if bound.integer else "number"  # argparse names the type in some errors
    return parse


def help_text(dest: str, what: str, default: object = None) -> str:
    """``what``, its range and its default: ``download timeout per request (0.1 to 3600 seconds; default 30)``."""
    bound = BOUNDS[dest]
    why = f": {bound.why}" if bound.why else ""
    tail = "" if default is None else f"; default {default}"
    return f"{what} ({bound.range_text}{why}{tail})"
