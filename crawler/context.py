"""Cut the sentence around a citation out of a post's visible text."""

from __future__ import annotations

import re

MAX_CONTEXT = 300
_SCAN = 1000
ELLIPSIS = "…"

# A full stop, "!" or "?" (possibly repeated, possibly closed by quotes or brackets)
# followed by whitespace ends a sentence when the next character starts one.
# A footnote mark may sit between the stop and the space ("true.[3] Then", "true.3 Then").
_END = re.compile(r"[.!?]+[\"'”’»)\]]*(?:\[\d{1,3}\]|(?<=[^\W\d_][.!?])\d{1,3})?\s+")
_OPENERS = frozenset("\"'“‘«([")
# Words after which a full stop rarely ends the sentence.
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "cf", "vs", "al", "mr", "mrs", "ms", "dr", "prof", "st",
     "fig", "no", "vol", "pp", "p", "ed", "eds", "jr", "sr", "inc", "ltd", "approx"}
)  # fmt: skip


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace into single spaces and strip the ends."""
    return " ".join(text.split())


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    nxt = text[match.end() : match.end() + 1]
    if not nxt or not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
        return False
    if not match.group().startswith("."):
        return True
    before = text[max(0, match.start() - 40) : match.start()].split()
    word = before[-1].lstrip("(\"'“‘").lower() if before else ""
    # Initials ("J. Smith") and common abbreviations ("e.g. The") do not end a sentence.
    return not (len(word) == 1 and word.isalpha()) and word not in _ABBREVIATIONS


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentences of ``text`` that overlap ``[start, end)``.

    ``text`` may contain ``"\\n"``: a hard break (block boundary) that always ends a
    sentence.
    """
    # Sentences longer than the window are cut anyway: scan no further than _SCAN
    # characters either side, so a huge block with many links stays linear.
    floor = max(0, start - _SCAN)
    lo = text.rfind("\n", floor, start) + 1 or floor
    ceiling = min(len(text), max(start, end) + _SCAN)
    hi = text.find("\n", max(start, end - 1), ceiling)
    if hi == -1:
        hi = ceiling
    sentence_start = lo
    for match in _END.finditer(text, lo, hi):
        if match.end() <= start:
            if _ends_sentence(text, match):
                sentence_start = match.end()
        elif match.start() >= end and _ends_sentence(text, match):
            # Keep the closing punctuation and quotes, not the whitespace after them.
            return sentence_start, match.start() + len(match.group().rstrip())
    return sentence_start, hi


def _window(text: str, start: int, end: int, limit: int) -> str:
    """At most ``limit`` characters of ``text`` around ``[start, end)``, cut at words."""
    budget = limit - 2 * len(ELLIPSIS)
    if end - start >= budget:
        lo, hi = start, start + budget
    else:
        lo = max(0, start - (budget - (end - start)) // 2)
        hi = min(len(text), lo + budget)
        lo = max(0, hi - budget)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", max(end, lo + 1), hi)
        hi = space if space != -1 else hi
    out = text[lo:hi].strip()
    return (ELLIPSIS if lo > 0 else "") + out + (ELLIPSIS if hi < len(text) else "")


def context_for(text: str, start: int, end: int, limit: int = MAX_CONTEXT) -> str:
    """The whitespace-normalised sentence(s) of ``text`` around ``[start, end)``."""
    lo, hi = sentence_bounds(text, start, end)
    sentence = text[lo:hi].replace("\n", " ")
    if len(normalize_space(sentence)) <= limit:
        return normalize_space(sentence)
    return normalize_space(_window(sentence, start - lo, end - lo, limit))
