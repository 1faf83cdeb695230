"""Fixtures of the distributed tests: a redis-server of their own per test (random loopback port)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed.helpers import run_redis


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    directory = tmp_path / "redis"
    directory.mkdir()
    with run_redis(directory) as url:
        yield url
