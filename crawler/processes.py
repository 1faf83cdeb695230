"""`citearchive archive --processes N`: N crawl processes share one run, a shard each; this process merges them."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from archive.collection import Collection
from archive.manifeststream import ManifestWithheld, write_manifest_from_journals
from archive.sideindex import index_collection
from archive.writer import recover_open_files
from crawler.crawlprocess import run_child
from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK
from crawler.merge import (
    append_journal,
    collect_staged,
    warc_files_with_prefix,
)
from crawler.pipelines.manifest import utc_now
from crawler.processprogress import JournalProgress
from crawler.runner import build_settings
from crawler.shards import STAGING_DIR, Shard, run_warc_prefix
from crawler.stopsignals import exit_code, installed

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.runner import CrawlOptions

logger = logging.getLogger(__name__)

__all__ = ["ProcessesOutcome", "gather_leftovers", "run_processes"]

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
#: How a crawl process ends when it crawled its shard, or was stopped (by a signal, or early).
_ENDS = frozenset({EXIT_OK, EXIT_INCOMPLETE, *(exit_code(signum) for signum in _STOP_SIGNALS)})


@dataclass(slots=True)
class Child:
    shard: Shard
    pid: int
    output: IO[bytes]
    status: int | None = None  # os.waitstatus_to_exitcode: negative when killed by a signal

    @property
    def name(self) -> str:
        return self.shard.part

    def problem(self, stopping: bool) -> str | None:
        """One line when the process did not end as a crawl ends (finished, or stopped early), else None."""
        if self.status is None or self.status in _ENDS:
            return None
        if self.status < 0:
            try:
                how = f"was killed by {signal.Signals(-self.status).name}"
            except ValueError:
                how = f"was killed by signal {-self.status}"
            if stopping and -self.status == signal.SIGTERM:
                return None
        else:
            how = f"failed with exit code {self.status} (its log lines above start with [{self.name}])"
        return (
            f"crawl process {self.name} (pid {self.pid}) {how}: what it archived is kept, its other citations "
            "are listed as not attempted; run the same command again to resume"
        )


@dataclass(slots=True)
class ProcessesOutcome:
    manifest_path: Path
    #: One line per crawl process that crashed; the run is then incomplete (exit code 4).
    problems: list[str] = field(default_factory=list)


class _Run:
    """One run's crawl processes: started by fork, watched, stopped by PID, their output merged."""

    def __init__(self, options: CrawlOptions, count: int, shard_by: str) -> None:
        self.options = options
        self.shards = [Shard(index, count, shard_by) for index in range(count)]
        self.collection = Collection(options.out, options.collection)
        self.run_id = options.run_id
        self.staging = options.out / STAGING_DIR / options.run_id
        self.warc_prefix = run_warc_prefix(build_settings(options).get("ARCHIVE_WARC_PREFIX"), self.run_id)
        self.children: list[Child] = []
        self.recovered: list[str] = []
        self.stopping = 0
        self.output_lock = threading.RLock()  # RLock: the signal handler may interrupt its holder
        self.progress: JournalProgress | None = None

    # --- before and after: gather what the processes left -------------------------------------

    def gather(self) -> list[str]:
        """Move staged WARCs into the collection and append the processes' journals to the run's journal.

        Run with no crawl process alive: before they start (what killed ones of an
        earlier attempt left, so a resumed run knows it is done) and after they end.
        Returns the WARC files moved.
        """
        self.collection.create()
        roots = sorted(path for path in self.staging.iterdir() if path.is_dir()) if self.staging.is_dir() else []
        moved = collect_staged(roots, self.collection, self.warc_prefix, "*.journal.jsonl")
        own = re.compile(rf"^{re.escape(self.run_id)}\.p\d+\.journal\.jsonl$")
        for journal in sorted(self.collection.manifests_dir.glob(f"{self.run_id}.p*.journal.jsonl")):
            if own.match(journal.name):
                append_journal(journal, self.collection.journal_path(self.run_id))
        for root in [*roots, self.staging, self.staging.parent]:
            _remove_empty_tree(root)
        return [name for name in moved if name.startswith(self.warc_prefix)]

    # --- the processes ------------------------------------------------------------------------

    def start(self) -> None:
        """Fork one crawl process per shard (before any thread of this process starts).

        SIGINT and SIGTERM are blocked meanwhile, so a new process never runs
        this process's handler; one arriving now ends the forking (no further
        process starts) and is handled once the mask is restored, stopping those
        that started.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        inherited: list[int] = []
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            for shard in self.shards:
                if _STOP_SIGNALS & signal.sigpending():
                    break
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # the crawl process: never returns
                    os.close(read_fd)
                    for fd in inherited:
                        os.close(fd)
                    run_child(self.options, shard, write_fd, parent, mask)
                os.close(write_fd)
                inherited.append(read_fd)
                self.children.append(Child(shard, pid, os.fdopen(read_fd, "rb")))
        except OSError:
            self.stop(signal.SIGTERM)
            self.wait()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def relay_output(self) -> list[threading.Thread]:
        """Copy each process's log lines to stderr, each prefixed with its part (``[p1] ...``)."""
        threads = []
        for child in self.children:
            thread = threading.Thread(target=self._relay, args=(child,), name=f"relay-{child.name}", daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _relay(self, child: Child) -> None:
        prefix = f"[{child.name}] ".encode()
        writable = True
        with child.output:
            # Read to the end even when stderr is gone: a full pipe would block the process.
            for line in child.output:
                if not writable:
                    continue
                text = prefix + (line if line.endswith(b"\n") else line + b"\n")
                with self.output_lock:
                    progress = self.progress
                    try:
                        # Over the progress line, which is drawn again below the relayed one.
                        _write_stderr(text if progress is None else b"\r\x1b[K" + text)
                        if progress is not None:
                            progress.draw()
                    except (OSError, ValueError):  # closed (a pipe to `head`): drop the rest
                        writable = False

    def stop(self, signum: int) -> None:
        """SIGINT/SIGTERM (in the signal handler): each live crawl process gets SIGTERM and stops within moments.

        The line is written with os.write: print() could re-enter a stream the
        interrupted code was writing. A second signal is :meth:`kill`.
        """
        self.stopping += 1
        live = [child for child in self.children if child.status is None]
        if live:
            pids = ", ".join(str(c.pid) for c in live)
            with self.output_lock:
                _write_raw(f"citearchive: stopping {len(live)} crawl process(es) (pids {pids}) (signal again to force)\n")
        elif self.children:
            _write_raw("citearchive: the crawl processes have ended: the manifest and index are written first\n")
        for child in live:
            try:
                os.kill(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """A second signal: every crawl process is killed (SIGKILL) before this one exits; the next run recovers."""
        for child in self.children:
            if child.status is None:
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def wait(self) -> list[str]:
        """Reap every crawl process; return one line for each that crashed (also printed at once)."""
        problems = []
        by_pid = {child.pid: child for child in self.children}
        while any(child.status is None for child in self.children):
            pid, status = os.wait()
            child = by_pid.get(pid)
            if child is None:
                continue
            child.status = os.waitstatus_to_exitcode(status)
            problem = child.problem(stopping=self.stopping > 0)
            if problem is not None:
                problems.append(problem)
                with self.output_lock:
                    print(f"citearchive: {problem}", file=sys.stderr, flush=True)
        return problems

    # --- the run's manifest ---------------------------------------------------------------------

    def finish(self, started: str, problems: list[str]) -> Path:
        """Compile the manifest from the run's journal and index the run's WARCs, as one process would.

        The manifest is streamed from the journal (never whole in memory). After a crash
        it is written only when it shows what is missing (citations "not attempted"), so
        that running the command again resumes.
        """
        journal = self.collection.journal_path(self.run_id)
        path = self.collection.manifest_path(self.run_id)
        warc_files = sorted({*self.recovered, *warc_files_with_prefix(self.collection.archive_dir, self.warc_prefix)})
        if self.stopping:
            from crawler.unreached import journal_unreached_posts

            journal_unreached_posts(journal, self.options.sources)
        written = True
        try:
            write_manifest_from_journals(
                path,
                [journal] if journal.exists() else [],
                run_id=self.run_id,
                collection=self.collection.name,
                started=started,
                finished=utc_now(),
                require_unattempted=bool(problems),
            )
        except ManifestWithheld:
            written = False
            logger.warning(
                "Not writing manifest %(path)s: a crawl process crashed before the run's work was all journalled",
                {"path": path},
            )
        if warc_files:
            index_collection(self.collection, warc_files)
        if written:
            logger.info("Wrote manifest %(path)s and indexed %(n)d WARC file(s)", {"path": path, "n": len(warc_files)})
        return path


def run_processes(options: CrawlOptions, count: int, shard_by: str = "host") -> ProcessesOutcome:
    """Crawl ``options``' sources with ``count`` processes, one shard each; merge their output.

    Call it holding the collection's lock, with the run chosen (new or resumed)
    and ``ARCHIVE_LOCK_HELD`` set: the processes inherit the lock's file, so the
    collection stays locked while any of them lives. Blocks until all have
    ended; SIGINT and SIGTERM stop them cleanly. Returns where the manifest is
    written and what went wrong.
    """
    run = _Run(options, count, shard_by)
    stop = installed()
    # First: from here a signal stops the crawl processes (or keeps them from starting), a second kills them.
    with stop.stopping(run.stop), stop.killing(run.kill):
        run.recovered = recover_open_files(run.collection.archive_dir) if run.collection.archive_dir.is_dir() else []
        run.gather()
        started = str(options.overrides.get("ARCHIVE_RUN_STARTED") or utc_now())
        if not run.stopping:
            run.start()
        _log_to_stderr(options)
        if run.children:
            print(
                f"citearchive: run {run.run_id}: {count} crawl processes sharded by {shard_by} "
                f"(pids {', '.join(str(child.pid) for child in run.children)})",
                file=sys.stderr,
                flush=True,
            )
        relays = run.relay_output()
        if options.progress and run.children:
            run.progress = JournalProgress(run.collection.manifests_dir, run.run_id, sys.stderr, run.output_lock)
            run.progress.start()
        problems = run.wait()
        for relay in relays:
            relay.join(timeout=5)
        if run.progress is not None:
            run.progress.stop()  # before gather(), which merges the processes' journals into the run's
            run.progress = None
        run.gather()
        path = run.finish(started, problems)
    return ProcessesOutcome(path, problems)


def gather_leftovers(options: CrawlOptions) -> None:
    """Before a run is resumed with one process: merge what crawl processes of an earlier attempt left.

    Their journals join the run's journal (so the crawl skips what they did) and
    their staged WARCs join the collection and its index. Nothing is left when the
    parent that started them ended normally; this is for one that was killed.
    """
    run = _Run(options, 1, "host")
    moved = run.gather()
    if moved:
        logger.warning(
            "Merged %(n)d WARC file(s) of crawl processes an earlier attempt of run %(run)s left",
            {"n": len(moved), "run": run.run_id},
        )
        index_collection(run.collection, moved)


def _write_raw(text: str) -> None:
    """One line on stderr, unbuffered: safe in a signal handler."""
    try:
        os.write(2, text.encode())
    except OSError:
        pass


def _write_stderr(data: bytes) -> None:
    buffer = getattr(sys.stderr, "buffer", None)
    if buffer is None:  # a text-only stream (tests capturing stderr)
        sys.stderr.write(data.decode("utf-8", "replace"))
        sys.stderr.flush()
    else:
        buffer.write(data)
        buffer.flush()


def _remove_empty_tree(root: Path) -> None:
    """Remove ``root`` and the directories under it if they hold no file."""
    if not root.is_dir():
        return
    for directory, _, _ in sorted(os.walk(root), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(directory)
        except OSError:
            pass


def _log_to_stderr(options: CrawlOptions) -> None:
    """This process's own log lines (the merge, the render phase): to the run's log file and the terminal."""
    from scrapy.utils.log import configure_logging

    from crawler.runlog import install_run_log

    settings = build_settings(options)
    configure_logging(settings)  # warnings and Twisted through logging; no root handler (LOG_INSTALL_ROOT_HANDLER)
    install_run_log(settings, options.verbosity)
