"""SIGINT and SIGTERM for a whole command: the first stops the run within moments, a second at once."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

__all__ = ["STOP_SIGNALS", "Interrupted", "StopSignals", "exit_code", "install", "installed", "signal_name", "uninstall"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_code(signum: int) -> int:
    """The shell's convention for a command ended by signal N: 128 + N (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """A signal arrived while the command was still preparing: nothing was started that needs a clean stop.

    A KeyboardInterrupt, so code written for Ctrl-C (``finally``, ``with``) unwinds as usual.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum)


class StopSignals:
    """The process's handler of SIGINT and SIGTERM, whatever the command is doing when one arrives.

    - While preparing (parsing options, reading sources, taking the lock) a signal
      raises :class:`Interrupted`: nothing was archived, nothing needs finishing.
    - Inside :meth:`stopping`, the first signal calls that context's ``stop``
      instead: the crawl cuts its requests and closes, the render phase closes its
      browser, the run's end (manifest, index) carries on. ``stop`` runs inside the
      signal handler, so it only sets flags or hands work to an event loop
      (``reactor.callFromThread``, ``loop.call_soon_threadsafe``): logging there
      could re-enter a stream the interrupted code was writing.
    - A second signal stops the process at once (``os._exit``) after the hooks of
      :meth:`killing` ran (crawl processes and browsers are killed, not orphaned).
      The WARC writer flushes and fsyncs each record pair and the journal each line,
      so at most the record in flight is lost; the next run recovers the ``.open``
      file and resumes.

    One per process (signal handlers are process-wide): :func:`install` makes it.
    """

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal received
        self.count = 0
        self.active = False
        self._stoppers: list[Callable[[int], None]] = []
        self._kill_hooks: list[Callable[[], object]] = []
        self._previous: dict[int, Any] = {}
        self._finished: int | None = None  # the command's exit code, once it returned

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else exit_code(self.signum)

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        self.active = True

    def finished(self, code: int) -> None:
        """The command returned ``code``: a signal from now on exits with it at once (no traceback
        from Python's handlers while the interpreter shuts down, no wait for its threads)."""
        self._finished = code

    def uninstall(self) -> None:
        """Put back the handlers it replaced (a command run in-process, as tests do, leaves none behind)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        self.active = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._finished is not None:  # the command is done, the interpreter exiting: nothing to stop
            os._exit(self._finished)
        self.count += 1
        if self.signum is None:
            self.signum = signum
        if self.count > 1:
            self.kill()
        if not self._stoppers:
            raise Interrupted(signum)
        self._stoppers[-1](signum)

    @contextmanager
    def stopping(self, stop: Callable[[int], None]) -> Iterator[None]:
        """While inside, the first signal calls ``stop(signum)`` (signal-safe, see above) instead of raising.

        A signal received before entering calls ``stop`` at once: a run stopped while
        crawling does not start its render phase.
        """
        self._stoppers.append(stop)
        try:
            if self.signum is not None:
                stop(self.signum)
            yield
        finally:
            self._stoppers.remove(stop)

    @contextmanager
    def killing(self, hook: Callable[[], object]) -> Iterator[None]:
        """While inside, a second signal calls ``hook()`` before the process exits (kill children, no orphans)."""
        self._kill_hooks.append(hook)
        try:
            yield
        finally:
            self._kill_hooks.remove(hook)

    def kill(self) -> None:
        """Stop at once: the hooks, one line on stderr, ``os._exit`` with the first signal's exit code."""
        for hook in reversed(self._kill_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001, S110 - exiting regardless: a failed hook must not keep the process alive
                pass
        signum = self.signum if self.signum is not None else signal.SIGINT
        message = (
            f"citearchive: {signal_name(signum)} again: stopped at once. What was archived is kept (at most the "
            "record being written is lost); run the same command again to resume.\n"
        )
        try:
            os.write(2, message.encode())
        except OSError:
            pass
        os._exit(exit_code(signum))

    @contextmanager
    def finishing(self) -> Iterator[None]:
        """While inside (a run, once it has begun), a signal is only noted: the run stops its crawl or
        render phase (their own :meth:`stopping`) and goes on to write what it has, the manifest and
        the index, which is short and what a stop must keep."""
        with self.stopping(self._note):
            yield

    def _note(self, signum: int) -> None:
        message = f"citearchive: {signal_name(signum)}: stopping; the manifest of what was archived is written (signal again to stop at once)\n"
        try:
            os.write(2, message.encode())
        except OSError:
            pass


_installed: StopSignals | None = None


def install() -> StopSignals:
    """Handle SIGINT and SIGTERM with a new :class:`StopSignals` (the CLI's first step; a forked crawl process's too)."""
    global _installed  # noqa: PLW0603 - one handler per process, as the signal table is
    _installed = StopSignals()
    _installed.install()
    return _installed


def uninstall(stop: StopSignals) -> None:
    """Undo :func:`install` (the CLI's last step)."""
    global _installed  # noqa: PLW0603
    stop.uninstall()
    if _installed is stop:
        _installed = None


def installed() -> StopSignals:
    """The process's :class:`StopSignals`; an inactive one when the CLI did not install it (library use: Scrapy's own handling)."""
    return _installed if _installed is not None else StopSignals()
