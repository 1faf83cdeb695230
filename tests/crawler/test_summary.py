"""The end-of-run summary reads the manifest once and returns the same exit code as exit_code_for."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from archive.manifest import compile_manifest, write_manifest
from crawler.exitcodes import EXIT_INCOMPLETE, EXIT_OK, EXIT_POST_FAILED
from crawler.summary import NOT_ATTEMPTED, exit_code_for, print_summary
from tests.archive.test_manifest import RUN, archived, citation


def manifest_with(tmp_path: Path, snapshot: dict[str, Any] | None, second: dict[str, Any]) -> Path:
    entries = [
        {"kind": "post", "post_id": "p", "source": "post.html", "url": "https://blog.example/p", "title": "P",
         "snapshot": snapshot, "citations": [citation(1, "https://example.com/a", "k-a"), citation(2, "https://example.org/b", "k-b")]},
        {"kind": "capture", "key": "k-a", "url": "https://example.com/a", "capture": archived()},
        {"kind": "capture", "key": "k-b", "url": "https://example.org/b", "capture": second},
    ]  # fmt: skip
    path = tmp_path / "run.json"
    write_manifest(path, compile_manifest(entries, **RUN))
    return path


FAILED = {"status": "failed", "http_status": 404, "reason": "the server answered HTTP 404 Not Found"}
NOT_DONE = {"status": "skipped", "http_status": None, "reason": f"{NOT_ATTEMPTED}: the run was interrupted"}
POST_FAILED = {"status": "failed", "http_status": None, "reason": "connection refused"}


@pytest.mark.parametrize(
    ("snapshot", "second", "expected"),
    [(None, FAILED, EXIT_OK), (None, NOT_DONE, EXIT_INCOMPLETE), (POST_FAILED, FAILED, EXIT_POST_FAILED),
     (POST_FAILED, NOT_DONE, EXIT_POST_FAILED)],
)  # fmt: skip
def test_summary_returns_the_exit_code(tmp_path: Path, snapshot: Any, second: dict[str, Any], expected: int) -> None:
    path = manifest_with(tmp_path, snapshot, second)
    stream = io.StringIO()
    assert print_summary(path, tmp_path, "blog", stream) == expected == exit_code_for(path)
    text = stream.getvalue()
    assert "Citations: 1 archived, 1 " in text and "http://127.0.0.1:8081/blog/20240506070809/https://example.com/a" in text


def test_no_manifest_is_an_incomplete_run(tmp_path: Path) -> None:
    stream = io.StringIO()
    assert print_summary(tmp_path / "missing.json", tmp_path, "blog", stream) == EXIT_INCOMPLETE == exit_code_for(tmp_path / "missing.json")
    assert "No manifest was written" in stream.getvalue()


@pytest.mark.parametrize("streamed", [False, True])
def test_a_post_with_a_fallback_or_warnings_gets_one_line(tmp_path: Path, streamed: bool) -> None:
    from archive.journal import Journal
    from archive.manifeststream import write_manifest_from_journals

    warning = "the HTML parser stopped at line 3, column 9: elements are nested deeper than 2048 levels"
    posts = [
        ("p1", {"container": "article", "fallback": False, "rule": None, "warnings": []}),
        ("p2", {"container": "body", "fallback": True, "rule": "rules.toml:4", "warnings": [warning]}),
    ]
    entries: list[dict[str, Any]] = [
        {"kind": "post", "post_id": pid, "source": f"{pid}.html", "url": None, "title": pid.upper(),
         "snapshot": None, "extraction": extraction, "citations": [citation(1, "https://example.com/a", "k-a")]}
        for pid, extraction in posts
    ]  # fmt: skip
    entries.append({"kind": "capture", "key": "k-a", "url": "https://example.com/a", "capture": archived()})
    path = tmp_path / "run.json"
    if streamed:
        journal = Journal(tmp_path / "run.jsonl")
        for entry in entries:
            journal.append(entry)
        journal.close()
        write_manifest_from_journals(path, [tmp_path / "run.jsonl"], **RUN)
    else:
        write_manifest(path, compile_manifest(entries, **RUN))
    stream = io.StringIO()
    assert print_summary(path, tmp_path, "blog", stream) == EXIT_OK
    lines = stream.getvalue().splitlines()
    flagged = [line for line in lines if "extraction:" in line]
    assert flagged == [f"  extraction: no article body recognised: the whole page was read; {warning}"]
    assert lines.index(flagged[0]) > lines.index("P2")
