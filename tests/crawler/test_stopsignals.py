"""StopSignals: while preparing a signal raises Interrupted; inside stopping() it calls the stop; a second one exits at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from crawler.stopsignals import Interrupted, StopSignals, exit_code
from tests.conftest import REPO_ROOT


@pytest.fixture
def stop() -> Iterator[StopSignals]:
    handlers = StopSignals()
    handlers.install()
    yield handlers
    handlers.uninstall()


def test_exit_codes_follow_the_shell() -> None:
    assert (exit_code(signal.SIGINT), exit_code(signal.SIGTERM)) == (130, 143)


def test_while_preparing_a_signal_raises_interrupted(stop: StopSignals) -> None:
    with pytest.raises(Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)  # a moment for the handler to run
    assert raised.value.exit_code == 143 and stop.exit_code == 143
    assert isinstance(raised.value, KeyboardInterrupt)  # code written for Ctrl-C unwinds as usual


def test_inside_stopping_the_stop_is_called_once_and_the_context_ends_normally(stop: StopSignals) -> None:
    calls: list[int] = []
    with stop.stopping(calls.append):
        os.kill(os.getpid(), signal.SIGINT)
        signal.sigtimedwait([], 0)
    assert calls == [signal.SIGINT] and stop.exit_code == 130
    calls.clear()
    with stop.stopping(calls.append):  # a later phase (the render phase) learns of it at once
        pass
    assert calls == [signal.SIGINT]


def test_uninstall_puts_back_the_handlers(stop: StopSignals) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    assert previous == stop._handle  # noqa: SLF001
    stop.uninstall()
    assert signal.getsignal(signal.SIGTERM) != stop._handle  # noqa: SLF001
    stop.install()


def test_a_second_signal_runs_the_kill_hooks_and_exits_with_the_first_signals_code() -> None:
    program = textwrap.dedent(
        """
        import os, signal, sys
        from crawler.stopsignals import install
        stop = install()
        with stop.stopping(lambda signum: None), stop.killing(lambda: print("hook ran", flush=True)):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)
            os.kill(os.getpid(), signal.SIGINT)
            signal.sigtimedwait([], 0)
        print("not reached", flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 143, done.stderr  # the first signal's code
    assert done.stdout == "hook ran\n"
    assert "stopped at once" in done.stderr and "Traceback" not in done.stderr
