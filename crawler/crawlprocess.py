"""One crawl process of `archive --processes N`: forked by the parent, it crawls its shard, then exits."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import traceback
from typing import TYPE_CHECKING

from crawler import stopsignals
from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_INTERNAL, EXIT_OK
from crawler.runner import build_settings
from crawler.stopsignals import Interrupted

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import FrameType

    from scrapy.settings import Settings

    from crawler.runner import CrawlOptions
    from crawler.shards import Shard

__all__ = ["run_child", "shard_settings"]

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def shard_settings(options: CrawlOptions, shard: Shard) -> Settings:
    """The settings of one crawl process: the run's own, plus its shard and its staged WARCs and journal."""
    settings = build_settings(options)
    prefix = settings.get("ARCHIVE_WARC_PREFIX")
    settings.setdict(
        {
            "ARCHIVE_SHARD": str(shard),
            "ARCHIVE_SHARD_BY": shard.by,
            "ARCHIVE_SHARD_STAGING": str(shard.staging_out(options.out, options.run_id)),
            "ARCHIVE_WARC_PREFIX": shard.warc_prefix(prefix, options.run_id),
            "ARCHIVE_PROGRESS": False,
            "EXTENSIONS": {
                **settings.getdict("EXTENSIONS"),
                "crawler.extensions.warcsink.WarcSink": None,
                "crawler.extensions.shardsink.ShardWarcSink": 100,
            },
            "ITEM_PIPELINES": {
                **settings.getdict("ITEM_PIPELINES"),
                "crawler.pipelines.manifest.ManifestPipeline": None,
                "crawler.pipelines.shardjournal.ShardJournalPipeline": 800,
            },
        },
        priority="cmdline",
    )
    return settings


def _exit_with_parent(parent: int) -> None:
    """Linux: stop cleanly when the parent dies, so a killed parent leaves no crawl behind.

    The kernel sends SIGHUP (``PR_SET_PDEATHSIG``); the handler points stdout and
    stderr, the pipe the dead parent read, at /dev/null (log lines written into a
    broken pipe would fail the clean stop) and sends this process SIGTERM, which
    its StopSignals answers with a clean stop. Once: the kernel signals again as each
    thread of the parent exits, and a second SIGTERM would stop it at once.
    """

    def parent_died(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGHUP, parent_died)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl
        os._exit(EXIT_INCOMPLETE)


def run_child(options: CrawlOptions, shard: Shard, output: int, parent: int, mask: Iterable[int]) -> None:
    """The crawl process: run the spider over its shard, then exit (never return into the parent's code)."""
    code = EXIT_INTERNAL
    try:
        # Its own process group: a Ctrl-C at the terminal reaches the parent only, which
        # stops each crawl process once (a second signal would stop it at once). Until its
        # crawl is set up (see _crawl) the process has nothing to save, and a stop ends it
        # at once, by the kernel: 200 processes importing Scrapy on two cores would
        # otherwise each need the CPU to unwind.
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _exit_with_parent(parent)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        code = _crawl(options, shard)
    except Interrupted as exc:  # before its crawl started: nothing to write
        code = exc.exit_code
    except BaseException:  # noqa: BLE001 - the crawl process's last line: report, then exit with a code
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _crawl(options: CrawlOptions, shard: Shard) -> int:
    from crawler.runner import crawl
    from crawler.spiders.citations import CitationsSpider

    from crawler.runlog import install_run_log

    settings = shard_settings(options, shard)
    install_run_log(settings, options.verbosity, part=shard.part)  # the run's log file; stderr: the parent relays it
    # Its own StopSignals, not the parent's copy (forked with the parent's stop of the processes):
    # from here a stop closes the crawl cleanly, and the process exits 143.
    stop = stopsignals.install()
    crawler = crawl(settings, CitationsSpider, exit_before_start=True)
    reason = crawler.stats.get_value("finish_reason") if crawler.stats is not None else None
    if reason is None:  # the spider never closed: it failed to start (logged above)
        return stop.exit_code or EXIT_INTERNAL
    if reason == "finished":
        return EXIT_OK
    return stop.exit_code or EXIT_INCOMPLETE
