"""Fixtures for the archive tests: a gzip/plain switch and a pinned ArchiveWriter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from archive.writer import ArchiveWriter
from tests.archive.factories import CLOCK, pinned_ids


@pytest.fixture(params=[True, False], ids=["gzip", "plain"])
def gzip(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def make_writer(tmp_path: Path, gzip: bool) -> Callable[..., ArchiveWriter]:
    def make(**kwargs: object) -> ArchiveWriter:
        options: dict[str, object] = {
            "gzip": gzip,
            "make_record_id": pinned_ids(),
            "clock": lambda: CLOCK,
            "fsync": False,
        }
        options.update(kwargs)
        return ArchiveWriter(tmp_path / "archive", **options)  # type: ignore[arg-type]

    return make
