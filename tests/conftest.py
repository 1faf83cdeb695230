"""Session fixtures: the mock site on 127.0.0.1 and a helper that runs the CLI behind the network guard."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The distributed tests need scrapy-redis, which cannot share an environment with pywb:
# scripts/test-distributed runs them in .venv-distributed.
collect_ignore = [] if importlib.util.find_spec("scrapy_redis") else ["distributed"]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    violations: list[str]
    peak_rss_kb: int = 0  # the CLI process's own peak resident set (ru_maxrss)


def run_cli(args: list[str], tmp_path: Path, timeout: float = 300, env: dict[str, str] | None = None) -> CliRun:
    """Run ``citearchive ARGS`` in a subprocess that may only reach 127.0.0.1.

    Each crawl needs a process of its own: a Twisted reactor cannot restart.
    Output goes through files, so waiting with wait4 (for the peak RSS) cannot
    deadlock on a full pipe.
    """
    index = len(list(tmp_path.glob("violations-*")))
    violations = tmp_path / f"violations-{index}.txt"
    violations.touch()
    stdout_path, stderr_path = tmp_path / f"stdout-{index}.txt", tmp_path / f"stderr-{index}.txt"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.netguard", str(violations), "--", *args],
            cwd=REPO_ROOT,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        returncode, peak = _wait_with_rusage(process, timeout)
    lines = [line for line in violations.read_text().splitlines() if line]
    read = lambda path: path.read_text(encoding="utf-8", errors="replace")  # noqa: E731
    return CliRun(returncode, read(stdout_path), read(stderr_path), lines, peak)


def _wait_with_rusage(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_maxrss
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise subprocess.TimeoutExpired(process.args, timeout)


_VIOLATIONS = Path(tempfile.gettempdir()) / f"citearchive-test-violations-{os.getpid()}.txt"


def pytest_configure(config: pytest.Config) -> None:
    """Guard the test process itself too: only 127.0.0.1 may be reached."""
    from tests.netguard import install

    _VIOLATIONS.write_text("")
    install(str(_VIOLATIONS))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    lines = [line for line in _VIOLATIONS.read_text().splitlines() if line] if _VIOLATIONS.exists() else []
    _VIOLATIONS.unlink(missing_ok=True)
    if lines:
        print(f"\nThe test process tried to reach beyond 127.0.0.1 {len(lines)} time(s): {lines[:5]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def mocksite() -> Iterator[object]:
    from tests.mocksite.fixture import run_mocksite

    with run_mocksite() as site:
        yield site
