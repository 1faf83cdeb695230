"""Session fixtures: the mock site on 127.0.0.1 and a helper that runs the CLI behind the network guard."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    violations: list[str]


def run_cli(args: list[str], tmp_path: Path, timeout: float = 300, env: dict[str, str] | None = None) -> CliRun:
    """Run ``citearchive ARGS`` in a subprocess that may only reach 127.0.0.1.

    Each crawl needs a process of its own: a Twisted reactor cannot restart.
    """
    violations = tmp_path / f"violations-{len(list(tmp_path.glob('violations-*')))}.txt"
    violations.touch()
    process = subprocess.run(
        [sys.executable, "-m", "tests.netguard", str(violations), "--", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    lines = [line for line in violations.read_text().splitlines() if line]
    return CliRun(process.returncode, process.stdout, process.stderr, lines)


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
