"""Tests for archive.manifest and archive.journal: journal → manifest → validated file."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from archive.exceptions import ManifestError
from archive.manifest import (
    NOT_ATTEMPTED,
    Journal,
    compile_manifest,
    load_schema,
    read_journal,
    summarise,
    _fast_validator,
    _validator,
    validate_manifest,
    write_manifest,
)

RUN = {
    "run_id": "20240506T070000Z-ab12",
    "collection": "blog",
    "started": "2024-05-06T07:00:00Z",
    "finished": "2024-05-06T07:05:00.250000Z",
}


def archived(warc_file: str = "citearchive-1-00000.warc.gz", offset: int = 700) -> dict[str, Any]:
    return {
        "status": "archived",
        "http_status": 200,
        "final_url": "https://example.com/a",
        "timestamp": "20240506070809",
        "warc_file": warc_file,
        "offset": offset,
        "length": 490,
        "record_id": "<urn:uuid:00000000-0000-4000-8000-000000000002>",
        "payload_digest": "sha1:S2UJ4ZVX4VFSZRWPWWTF5LLSF3ECTABE",
        "mime": "text/html",
        "reason": None,
        "hops": [
            {
                "url": "http://example.com/a",
                "http_status": 301,
                "warc_file": warc_file,
                "offset": 100,
                "length": 300,
                "record_id": "<urn:uuid:00000000-0000-4000-8000-000000000009>",
            }
        ],
    }


def citation(n: int, url: str, key: str) -> dict[str, Any]:
    return {
        "n": n,
        "url": url,
        "key": key,
        "anchor_text": f"link {n}",
        "context": f"… see link {n} …",
    }


def journal_entries() -> list[dict[str, Any]]:
    failed = {"status": "failed", "http_status": None, "reason": "DNS lookup failed: no such host"}
    return [
        {
            "kind": "post",
            "post_id": "p1",
            "source": "https://blog.example/p1",
            "url": "https://blog.example/p1",
            "title": "Old title",
            "snapshot": None,
            "citations": [],
        },
        {
            "kind": "post",
            "post_id": "p2",
            "source": "posts/p2.md",
            "url": None,
            "title": None,
            "snapshot": None,
            "citations": [citation(1, "https://example.com/a", "k-a")],
        },
        {"kind": "capture", "key": "k-a", "url": "https://example.com/a", "capture": failed},
        {
            "kind": "capture",
            "key": "k-a",
            "url": "https://example.com/a",
            "capture": archived(offset=1),
        },
        {"kind": "capture", "key": "k-a", "url": "https://example.com/a", "capture": failed},
        {"kind": "capture", "key": "k-b", "url": "https://example.org/b", "capture": failed},
        {
            "kind": "capture",
            "key": "k-c",
            "url": "https://example.net/c",
            "capture": {"status": "blocked", "reason": "robots.txt disallows"},
        },
        {
            "kind": "capture",
            "key": "k-c",
            "url": "https://example.net/c",
            "capture": {"status": "skipped", "reason": "later"},
        },
        {
            # Replaces the first p1 entry but keeps its place.
            "kind": "post",
            "post_id": "p1",
            "source": "https://blog.example/p1",
            "url": "https://blog.example/p1",
            "title": "Post one",
            "snapshot": archived("citearchive-1-00000.warc.gz", 5000),
            "citations": [
                citation(1, "https://example.com/a", "k-a"),
                citation(2, "https://example.org/b", "k-b"),
                citation(3, "https://example.net/c", "k-c"),
                citation(4, "https://example.com/a", "k-a"),
                citation(5, "https://never.example/", "k-never"),
            ],
        },
    ]


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "manifests" / "run.journal"
    with Journal(path) as journal:
        for entry in journal_entries():
            journal.append(entry)
    with path.open("ab") as fh:
        fh.write(b'{"kind": "capture", "key": "k-never", "capt')  # torn by a crash
    return path


def test_compile_from_journal(journal_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="archive.journal"):
        entries = list(read_journal(journal_path))
    assert "torn last line" in caplog.text
    assert entries == journal_entries()

    manifest = compile_manifest(entries, **RUN)
    validate_manifest(manifest)
    assert manifest["schema"] == "citearchive-manifest/1"
    assert manifest["tool"]["name"] == "citearchive"
    assert [p["post_id"] for p in manifest["posts"]] == ["p1", "p2"]
    p1, p2 = manifest["posts"]
    assert p1["title"] == "Post one"
    assert p1["snapshot"]["offset"] == 5000
    assert "kind" not in p1
    captures = [c["capture"] for c in p1["citations"]]
    assert [c["status"] for c in captures] == [
        "archived",
        "failed",
        "skipped",
        "archived",
        "skipped",
    ]
    assert captures[0]["offset"] == 1  # the archived capture beat the later failure
    assert captures[0]["hops"][0]["http_status"] == 301
    assert captures[1]["reason"] == "DNS lookup failed: no such host"
    assert captures[1]["warc_file"] is None and "warc_file" in captures[1]
    assert captures[2]["reason"] == "later"  # no archived one: the last wins
    assert captures[4] == {
        "status": "skipped",
        "http_status": None,
        "final_url": None,
        "timestamp": None,
        "warc_file": None,
        "offset": None,
        "length": None,
        "record_id": None,
        "payload_digest": None,
        "mime": None,
        "reason": NOT_ATTEMPTED,
    }
    assert all("key" not in c for c in p1["citations"])
    assert p1["citations"][0] == {
        "n": 1,
        "url": "https://example.com/a",
        "anchor_text": "link 1",
        "context": "… see link 1 …",
        "capture": captures[0],
    }
    assert p2["citations"][0]["capture"]["status"] == "archived"
    assert summarise(manifest) == {"archived": 3, "failed": 1, "blocked": 0, "skipped": 2}


def test_journal_reopen_cuts_torn_line(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        journal.append(
            {
                "kind": "capture",
                "key": "k-never",
                "url": "u",
                "capture": {"status": "skipped", "reason": "x"},
            }
        )
    lines = journal_path.read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)
    assert len(list(read_journal(journal_path))) == len(journal_entries()) + 1


def test_corrupt_middle_line_raises(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"kind": "post"}\nnot json\n{"kind": "post"}\n', encoding="utf-8")
    with pytest.raises(ManifestError, match="line 2"):
        list(read_journal(path))


def compiled() -> dict[str, Any]:
    return compile_manifest(journal_entries(), **RUN)


def first_capture(manifest: dict[str, Any]) -> dict[str, Any]:
    capture: dict[str, Any] = manifest["posts"][0]["citations"][1]["capture"]
    return capture


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "failed", "reason": None}, "reason"),
        ({"status": "blocked", "reason": ""}, "reason"),
        ({"status": "gone"}, "status"),
        ({"status": "archived", "warc_file": None}, "warc_file"),
        ({"timestamp": "2024"}, "timestamp"),
    ],
)
def test_schema_rejects(change: dict[str, Any], message: str) -> None:
    manifest = compiled()
    first_capture(manifest).update(change)
    # Both validators reject it: jsonschema-rs decides, jsonschema words the message.
    assert not _fast_validator().is_valid(manifest)
    assert not _validator().is_valid(manifest)
    with pytest.raises(ManifestError, match=message) as info:
        validate_manifest(manifest)
    assert "\n" not in str(info.value)
    assert "manifest.posts[0].citations[1].capture" in str(info.value)


def test_schema_rejects_top_level_and_allows_extras() -> None:
    manifest = compiled()
    manifest["extra"] = {"anything": True}
    first_capture(manifest)["extra"] = [1, 2]
    validate_manifest(manifest)
    broken = copy.deepcopy(manifest)
    del broken["run_id"]
    with pytest.raises(ManifestError, match="run_id"):
        validate_manifest(broken)
    broken = copy.deepcopy(manifest)
    broken["started"] = "2024-05-06 07:00"
    with pytest.raises(ManifestError, match="started"):
        validate_manifest(broken)


def test_schema_is_draft_2020_12() -> None:
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_write_manifest_atomic(tmp_path: Path) -> None:
    path = tmp_path / "manifests" / "run.json"
    manifest = compiled()
    write_manifest(path, manifest)
    write_manifest(path, manifest)  # replacing an existing manifest
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]
    text = path.read_text(encoding="utf-8")
    assert "… see link 1 …" in text  # ensure_ascii=False
    assert text.startswith('{\n  "schema": "citearchive-manifest/1"')
    assert json.loads(text) == manifest


def test_write_manifest_refuses_invalid(tmp_path: Path) -> None:
    manifest = compiled()
    first_capture(manifest)["reason"] = None
    path = tmp_path / "run.json"
    with pytest.raises(ManifestError):
        write_manifest(path, manifest)
    assert list(tmp_path.iterdir()) == []
