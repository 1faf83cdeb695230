"""Queue directories: removed by their owner, or by the next crawl once their process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler.queuedir import OWNER_LOCK, UNLOCKED_GRACE, QueueDirectory, sweep_abandoned

_HOLD = """
import sys, time
from crawler.queuedir import QueueDirectory
directory = QueueDirectory(sys.argv[1])
print(directory.path, flush=True)
time.sleep(600)
"""


def _start_holder(parent: Path) -> tuple[subprocess.Popen[str], Path]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(parent)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1]
    )
    assert process.stdout is not None
    return process, Path(process.stdout.readline().strip())


def test_a_live_process_keeps_its_directory_and_a_killed_ones_is_swept(tmp_path: Path) -> None:
    alive, alive_dir = _start_holder(tmp_path)
    killed, killed_dir = _start_holder(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        (killed_dir / "requests.queue").mkdir()  # what Scrapy leaves in it
        mine = QueueDirectory(str(tmp_path))  # creating one sweeps its neighbours
        assert not killed_dir.exists()
        assert alive_dir.exists() and (alive_dir / OWNER_LOCK).exists()
        assert sorted(tmp_path.iterdir()) == sorted([alive_dir, mine.path])
        mine.remove()
        mine.remove()
        assert not mine.path.exists()
    finally:
        alive.kill()
        alive.wait(timeout=10)


def test_a_directory_without_a_lock_is_swept_only_when_old(tmp_path: Path) -> None:
    young, old = tmp_path / "citearchive-queue-young", tmp_path / "citearchive-queue-old"
    young.mkdir()
    old.mkdir()
    past = time.time() - UNLOCKED_GRACE - 60
    os.utime(old, (past, past))
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert sweep_abandoned(tmp_path) == [old]
    assert sorted(tmp_path.iterdir()) == sorted([young, unrelated])
