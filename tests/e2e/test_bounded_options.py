"""Out-of-range numbers are refused by the real command, at once: one line, exit 2, nothing written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

POST = ["archive", "http://127.0.0.1:9/post"]
REDIS = ["--redis", "redis://127.0.0.1:9/0"]

CASES = [
    (POST, "--timeout", "inf"),
    (POST, "--timeout", "nan"),
    (POST, "--timeout", "1e308"),
    (POST, "--timeout", "-5"),
    (POST, "--timeout", "0"),
    (POST, "--max-size", "0"),
    (POST, "--max-size", "1e308"),
    (POST, "--max-size", "-1"),
    (POST, "--retries", "99999999999999999999"),
    (POST, "--retries", "-1"),
    (POST, "--delay", "inf"),
    (POST, "--delay", "-0.5"),
    (POST, "--retry-after-max", "1e308"),
    (POST, "--processes", "100000"),
    (POST, "--processes", "0"),
    (["recrawl"], "--wait", "nan"),
    (["recrawl"], "--timeout", "inf"),
    (["worker", *REDIS], "--concurrency", "0"),
    (["worker", *REDIS], "--per-host", "100000"),
    (["worker", *REDIS], "--idle-exit", "-1"),
    (["worker", *REDIS], "--heartbeat", "inf"),
    (["finalize", *REDIS], "--wait", "-1"),
    (["replay"], "--port", "70000"),
    (["replay"], "--max-decoded", "nan"),
    (["report"], "--drift-threshold", "1.5"),
    (["report"], "--failures", "0"),
]


@pytest.mark.parametrize(("command", "option", "value"), CASES, ids=[f"{c[0]}{o}={v}" for c, o, v in CASES])
def test_bad_number_is_refused_before_anything_starts(command: list[str], option: str, value: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_cli([*command, "--out", str(out), option, value], tmp_path, timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"citearchive: error: {option} must be a "), result.stderr
    assert "between" in result.stderr and repr(value) in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert result.violations == []
    assert elapsed < 2, f"{elapsed:.2f} s"  # refused while parsing: no crawl, no fork, no Redis
