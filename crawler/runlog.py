"""The log of a command-line run: all of it in the run's log file, on the terminal only what a person needs.

Scrapy's root handler is not installed (``LOG_INSTALL_ROOT_HANDLER`` False, set by
:func:`log_settings`); :func:`install_run_log` puts two handlers on the root logger instead:

- the run's log file (``LOG_FILE``: ``OUT/collections/NAME/logs/RUN_ID.log`` by default), at
  ``LOG_LEVEL`` (INFO, or DEBUG with ``-v``), formatted as Scrapy's own (``LOG_FORMAT``), appended
  to by each crawl process of a run; a write that fails (a full disk) ends it with one line;
- the terminal (stderr): with ``-v`` the same lines; otherwise warnings of citearchive's own
  loggers and errors of any, one line each (a traceback stays in the file).

Scrapy's ``configure_logging`` still runs (warnings and Twisted routed through logging).
Under scrapyd or ``scrapy crawl`` none of this applies: Scrapy logs as it is told.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scrapy.utils.log import TopLevelFormatter

from archive.collection import Collection

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = ["OWN_LOGGERS", "VERBOSITIES", "Verbosity", "install_run_log", "log_settings"]

Verbosity = Literal["quiet", "default", "verbose"]
VERBOSITIES: tuple[Verbosity, ...] = ("quiet", "default", "verbose")
#: The top-level packages whose warnings reach the terminal (those of Scrapy, Twisted, ... do at ERROR).
OWN_LOGGERS = frozenset({"crawler", "archive"})


def log_settings(out: Path, collection: str, run_id: str, verbosity: Verbosity) -> dict[str, Any]:
    """The Scrapy settings of a CLI run's log (``-s`` overrides win over them)."""
    return {
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOG_FILE": str(Collection(out, collection).log_path(run_id)),
        "LOG_FILE_APPEND": True,
        "LOG_LEVEL": "DEBUG" if verbosity == "verbose" else "INFO",
    }


class RunLogFile(logging.FileHandler):
    """The run's log file, opened for appending; a failed write (a full disk) stops it, never a traceback."""

    def __init__(self, path: str, encoding: str | None) -> None:
        super().__init__(path, mode="a", encoding=encoding, delay=True)
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        try:
            super().emit(record)  # opens the file on the first record
        except OSError:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if self.failed:
            return
        self.failed = True
        error = sys.exc_info()[1]
        with contextlib.suppress(OSError, ValueError):
            self.close()
        print(
            f"citearchive: warning: stopped writing the log file {self.baseFilename}: {error}",
            file=sys.stderr,
            flush=True,
        )


class OneLineFormatter(logging.Formatter):
    """``citearchive: warning: MESSAGE``; an exception adds its type and message, never its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f" ({type(error).__name__}: {error})"
        first, *rest = message.splitlines() or [""]
        origin = "" if _is_own(record) else f"[{record.name}] "
        more = " (more in the log file)" if rest else ""
        return f"citearchive: {record.levelname.lower()}: {origin}{first}{more}"


class TerminalHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr: every record with ``-v``, else citearchive's warnings and any error, one line each.

    On a terminal each line first clears the line it lands on: the progress line, which is
    drawn again on the next item.
    """

    def __init__(self, verbose: bool, formatter: logging.Formatter) -> None:
        super().__init__(sys.stderr)
        self.verbose = verbose
        self.setFormatter(formatter)
        self.clear = _isatty(self.stream)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.verbose and not (record.levelno >= logging.ERROR or _is_own(record)):
            return False
        return bool(super().filter(record))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return "\r\x1b[K" + text if self.clear else text


def install_run_log(settings: BaseSettings, verbosity: Verbosity, part: str = "") -> None:
    """Put the run's log file and the terminal on the root logger, replacing any this function put there.

    ``part`` (``p1``) starts each line a crawl process of ``archive --processes`` writes to the
    file; its terminal lines get the same prefix from the parent that relays them. Call it
    before ``CrawlerProcess()``, so the file has Scrapy's first lines: its configure_logging
    (dictConfig) closes every handler, and the file, opened for appending, reopens on the next line.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, (RunLogFile, TerminalHandler))]:
        root.removeHandler(handler)
        with contextlib.suppress(OSError, ValueError):
            handler.close()
    fmt, datefmt = settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")
    level = logging.getLevelName(str(settings.get("LOG_LEVEL")).upper())
    level = level if isinstance(level, int) else logging.INFO
    short_names = TopLevelFormatter(["scrapy"]) if settings.getbool("LOG_SHORT_NAMES") else None
    levels = []
    path = settings.get("LOG_FILE") if settings.getbool("LOG_ENABLED") else None
    if path:
        logfile = _log_file(Path(path), settings.get("LOG_ENCODING"))
        if logfile is not None:
            logfile.setFormatter(logging.Formatter(f"[{part}] {fmt}" if part else fmt, datefmt))
            logfile.setLevel(level)
            if short_names is not None:
                logfile.addFilter(short_names)
            root.addHandler(logfile)
            levels.append(level)
    verbose = verbosity == "verbose"
    terminal = TerminalHandler(verbose, logging.Formatter(fmt, datefmt) if verbose else OneLineFormatter())
    terminal.setLevel(level if verbose else logging.WARNING)
    if short_names is not None:
        terminal.addFilter(short_names)
    root.addHandler(terminal)
    levels.append(terminal.level)
    root.setLevel(min(levels))


def _log_file(path: Path, encoding: str | None) -> RunLogFile | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"citearchive: warning: no log file: cannot create {path.parent}: {exc}", file=sys.stderr, flush=True)
        return None
    return RunLogFile(str(path), encoding)


def _is_own(record: logging.LogRecord) -> bool:
    return record.name.split(".", 1)[0] in OWN_LOGGERS


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
