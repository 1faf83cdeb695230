"""Journal lines appended with sync=False are flushed at once and fsynced with the next synced line or on close."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from archive.journal import Journal, read_journal


def test_unsynced_lines_are_flushed_and_synced_later(tmp_path: Path) -> None:
    path = tmp_path / "run.journal.jsonl"
    with mock.patch("archive.journal.os.fsync") as fsync:
        journal = Journal(path)
        journal.append({"kind": "requisite", "n": 1}, sync=False)
        journal.append({"kind": "requisite", "n": 2}, sync=False)
        assert fsync.call_count == 0
        assert path.read_bytes().count(b"\n") == 2  # flushed: a crash of the process loses nothing
        journal.append({"kind": "capture", "n": 3})
        assert fsync.call_count == 1  # one fsync makes the earlier lines durable too
        journal.append({"kind": "requisite", "n": 4}, sync=False)
        journal.close()
        assert fsync.call_count == 2  # close syncs what is pending
    assert [entry["n"] for entry in read_journal(path)] == [1, 2, 3, 4]


def test_close_without_pending_lines_does_not_sync(tmp_path: Path) -> None:
    with mock.patch("archive.journal.os.fsync") as fsync:
        journal = Journal(tmp_path / "j.jsonl")
        journal.append({"kind": "capture"})
        journal.close()
        assert fsync.call_count == 1
