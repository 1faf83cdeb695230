"""Content drift: shingled similarity of two captures' main text, and a readable diff."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["DEFAULT_THRESHOLD", "Drift", "compare_texts", "shingles", "similarity", "text_diff"]

#: A change above this (1 - similarity) is flagged as drift.
DEFAULT_THRESHOLD = 0.2
_SHINGLE = 4
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = _SHINGLE) -> set[tuple[str, ...]]:
    """The set of ``size``-word shingles of ``text`` (lower-cased words; short texts: the words)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < size:
        return {(w,) for w in words}
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def similarity(old: str, new: str) -> float:
    """Jaccard similarity of the two texts' shingle sets, 1.0 for identical (or both empty)."""
    a, b = shingles(old), shingles(new)
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def text_diff(old: str, new: str, old_label: str = "before", new_label: str = "after") -> str:
    """A unified diff of the two texts, one line per text block."""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm="")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Drift:
    """How a capture's main text differs from the previous good capture's."""

    similarity: float
    change: float  # 1 - similarity
    flagged: bool
    identical_payload: bool  # same decoded bytes (possibly re-encoded differently on the wire)
    diff: str


def compare_texts(
    old_payload: bytes, new_payload: bytes, old_text: str, new_text: str, threshold: float = DEFAULT_THRESHOLD
) -> Drift:
    """Compare two captures: identical decoded payloads are unchanged whatever their encoding."""
    if old_payload == new_payload:
        return Drift(1.0, 0.0, False, True, "")
    score = similarity(old_text, new_text)
    change = round(1.0 - score, 4)
    return Drift(round(score, 4), change, change > threshold, False, text_diff(old_text, new_text))
