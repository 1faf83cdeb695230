"""The streamed manifest equals the in-memory one byte for byte, and is validated part by part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archive.exceptions import ManifestError
from archive.journal import Journal
from archive.manifest import NOT_ATTEMPTED, compile_manifest, read_journal, summarise, write_manifest
from archive.manifestread import ManifestReadError, iter_manifest, manifest_started
from archive.manifeststream import ManifestWithheld, write_manifest_from_journals

from .test_manifest import RUN, archived, citation, journal_entries


def write_journal(path: Path, entries: list[dict[str, Any]], torn: bytes = b"") -> Path:
    with Journal(path) as journal:
        for entry in entries:
            journal.append(entry)
    if torn:
        with path.open("ab") as fh:
            fh.write(torn)
    return path


def both_ways(tmp_path: Path, journals: list[Path]) -> tuple[bytes, bytes, dict[str, int]]:
    entries = [entry for path in journals for entry in read_journal(path)]
    manifest = compile_manifest(entries, **RUN)
    write_manifest(tmp_path / "memory.json", manifest)
    counts = write_manifest_from_journals(tmp_path / "stream.json", journals, **RUN)
    assert counts == summarise(manifest)
    return (tmp_path / "memory.json").read_bytes(), (tmp_path / "stream.json").read_bytes(), counts


def requisite_and_render_entries() -> list[dict[str, Any]]:
    return [
        {"kind": "post", "post_id": "p9", "source": "p9.html", "url": None, "title": "Ünïcode “quotes”",
         "snapshot": None, "citations": [citation(1, "https://r.example/", "k-r"), citation(2, "https://s.example/", "k-s")],
         "feed": "https://blog.example/feed.xml"},
        {"kind": "capture", "key": "k-r", "url": "https://r.example/", "capture": archived(offset=9)},
        {"kind": "requisites", "parent": "k-r", "found": ["https://r.example/a.css", "https://r.example/b.png"],
         "outcomes": [{"url": "https://r.example/a.css", "role": "stylesheet", "capture": archived(offset=77)}]},
        {"kind": "render", "key": "k-r", "render": {"status": "skipped", "reason": "not rendered"}},
        {"kind": "probe", "url": "https://r.example/zz-probe", "status": 404},
    ]  # fmt: skip


def test_stream_equals_memory_for_the_reference_journal(tmp_path: Path) -> None:
    journal = write_journal(tmp_path / "run.journal", journal_entries(), torn=b'{"kind": "capture", "ke')
    memory, stream, counts = both_ways(tmp_path, [journal])
    assert stream == memory
    assert counts["archived"] == 3 and counts["skipped"] == 2


def test_stream_equals_memory_with_requisites_renders_probes_and_several_journals(tmp_path: Path) -> None:
    one = write_journal(tmp_path / "a.journal", journal_entries())
    two = write_journal(tmp_path / "b.journal", requisite_and_render_entries())
    memory, stream, _ = both_ways(tmp_path, [one, two])
    assert stream == memory
    manifest = json.loads(stream)
    assert [post["source"] for post in manifest["posts"]] == ["https://blog.example/p1", "posts/p2.md", "p9.html"]
    assert manifest["posts"][2]["citations"][0]["render"]["status"] == "skipped"
    assert manifest["probes"] == [{"url": "https://r.example/zz-probe", "status": 404}]


def test_stream_equals_memory_with_no_posts(tmp_path: Path) -> None:
    journal = write_journal(tmp_path / "run.journal", [{"kind": "capture", "key": "k", "url": "u", "capture": archived()}])
    memory, stream, counts = both_ways(tmp_path, [journal])
    assert stream == memory
    assert json.loads(stream)["posts"] == [] and sum(counts.values()) == 0


def test_stream_refuses_an_invalid_citation_and_leaves_the_old_file(tmp_path: Path) -> None:
    entries = journal_entries()
    entries.append({"kind": "capture", "key": "k-b", "url": "https://example.org/b", "capture": {"status": "gone"}})
    journal = write_journal(tmp_path / "run.journal", entries)
    target = tmp_path / "manifest.json"
    target.write_text("old\n")
    with pytest.raises(ManifestError, match=r"manifest\.posts\[0\]\.citations\[1\]\.capture") as info:
        write_manifest_from_journals(target, [journal], **RUN)
    assert "\n" not in str(info.value)
    assert target.read_text() == "old\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def events_of(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for post in manifest["posts"]:
        keys = list(post)
        events.append(("post", {k: post[k] for k in keys[: keys.index("citations")]}))
        events.extend(("citation", citation) for citation in post["citations"])
    return events


def test_manifest_read_citation_by_citation_matches_json_load(tmp_path: Path) -> None:
    one = write_journal(tmp_path / "a.journal", journal_entries())
    two = write_journal(tmp_path / "b.journal", requisite_and_render_entries())
    _, stream, _ = both_ways(tmp_path, [one, two])
    with (tmp_path / "stream.json").open("rb") as fh:
        events = list(iter_manifest(fh))
    assert events == events_of(json.loads(stream))
    assert [kind for kind, _ in events].count("post") == 3
    torn = tmp_path / "torn.json"
    torn.write_bytes(stream[: len(stream) // 2])
    with torn.open("rb") as fh, pytest.raises(ManifestReadError):
        list(iter_manifest(fh))


def test_a_manifest_required_to_show_what_is_missing_is_written_only_then(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    post = {"kind": "post", "post_id": "p", "source": "p.html", "url": None, "title": "T", "snapshot": None,
            "citations": [citation(1, "https://example.com/a", "k-a"), citation(2, "https://example.org/b", "k-b")]}  # fmt: skip
    done = {"kind": "capture", "key": "k-a", "url": "https://example.com/a", "capture": archived()}
    missing = write_journal(tmp_path / "missing.journal", [post, done])
    counts = write_manifest_from_journals(target, [missing], **RUN, require_unattempted=True)
    assert counts["archived"] == 1 and counts["skipped"] == 1 and sum(counts.values()) == 2
    (_, second) = json.loads(target.read_text())["posts"][0]["citations"]
    assert second["capture"]["reason"] == NOT_ATTEMPTED
    assert manifest_started(target) == RUN["started"]
    # Every citation accounted for: nothing shows what a crash lost, so nothing is written.
    other = {"kind": "capture", "key": "k-b", "url": "https://example.org/b", "capture": {"status": "failed", "reason": "x"}}
    complete = write_journal(tmp_path / "complete.journal", [post, done, other])
    before = target.read_bytes()
    with pytest.raises(ManifestWithheld):
        write_manifest_from_journals(target, [complete], **RUN, require_unattempted=True)
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert write_manifest_from_journals(target, [complete], **RUN)["failed"] == 1


def test_manifest_started_of_a_missing_or_broken_file_is_none(tmp_path: Path) -> None:
    assert manifest_started(tmp_path / "none.json") is None
    (tmp_path / "broken.json").write_text('{"schema": "x", "sta')
    assert manifest_started(tmp_path / "broken.json") is None
