"""Content drift: shingled similarity, the threshold, and identical payloads re-encoded on the wire."""

from __future__ import annotations

from archive.drift import compare_texts, similarity

TEXT = "The council approved the flood barrier on Monday after a long debate about its cost and route."


def test_similarity_bounds() -> None:
    assert similarity(TEXT, TEXT) == 1.0
    assert similarity("", "") == 1.0
    assert similarity(TEXT, "Something else entirely, with no words in common at all here.") == 0.0


def test_small_edits_are_not_drift_and_rewrites_are() -> None:
    edited = TEXT.replace("Monday", "Tuesday")
    small = compare_texts(b"a", b"b", TEXT, TEXT + " Updated.")
    assert not small.flagged and small.change < 0.2
    rewritten = compare_texts(b"a", b"b", TEXT, "The barrier was cancelled. " + edited[:30])
    assert rewritten.flagged and "-" in rewritten.diff and "+" in rewritten.diff


def test_identical_decoded_payload_is_unchanged_whatever_the_text() -> None:
    same = compare_texts(b"<p>x</p>", b"<p>x</p>", TEXT, "ignored")
    assert same.identical_payload and not same.flagged and same.change == 0.0
