"""The real-page corpus (tests/data/realpages/): its split, its truth files, and how a run is scored.

Each page is ``PART/NAME.html.gz`` (the bytes as the public test set holds them, gzip-compressed)
with ``PART/NAME.truth.json``::

    {"url": "https://…",                 the page's own URL: the base of relative links
     "source": {"dataset": "owner/repo", "path": "…", "commit": "…", "licence": "MIT"},
     "platform": "news" | "wordpress" | "blogger" | "medium" | … ,
     "citations": [{"url": "https://…", "anchor_text": "…"}, …],
     "notes": "what the reader took as the main content, and any doubt",
     "labelled": "who read it, how, when"}

``citations`` are the links of the page's main content (the post or article the author wrote:
not navigation, sidebars, related stories, comments, share buttons, author boxes, footers) that
lead to another site, in document order, one entry per occurrence. ``PART`` is ``dev`` or
``heldout``, decided by :func:`part_of` from the name alone, before any rule was tuned.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "tests" / "data" / "realpages"
PARTS = ("dev", "heldout")


def part_of(name: str) -> str:
    """``heldout`` for about one page in three, chosen by a hash of its name (never by its content)."""
    return "heldout" if int(hashlib.sha256(name.encode()).hexdigest(), 16) % 3 == 0 else "dev"


@dataclass(frozen=True)
class Page:
    name: str
    part: str
    url: str
    truth: list[dict[str, str]]
    meta: dict[str, Any]
    path: Path

    def html_bytes(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())


def pages(part: str | None = None, root: Path = ROOT) -> Iterator[Page]:
    for which in PARTS if part is None else (part,):
        for truth_path in sorted((root / which).glob("*.truth.json")):
            name = truth_path.name.removesuffix(".truth.json")
            meta = json.loads(truth_path.read_text(encoding="utf-8"))
            yield Page(name, which, meta["url"], meta["citations"], meta, truth_path.with_name(f"{name}.html.gz"))


@dataclass
class Score:
    """Micro precision and recall over distinct cited URLs (their citation keys), summed over pages."""

    true_positives: int = 0
    predicted: int = 0
    expected: int = 0
    pages: int = 0
    perfect: int = 0
    lost_posts: list[str] = field(default_factory=list)

    def add(self, name: str, predicted: set[str], expected: set[str]) -> None:
        hits = len(predicted & expected)
        self.true_positives += hits
        self.predicted += len(predicted)
        self.expected += len(expected)
        self.pages += 1
        self.perfect += predicted == expected
        if expected and not hits:
            self.lost_posts.append(name)

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0

    def line(self, label: str) -> str:
        return (
            f"{label}: precision {self.precision:.3f} ({self.true_positives}/{self.predicted}), "
            f"recall {self.recall:.3f} ({self.true_positives}/{self.expected}), "
            f"{self.perfect}/{self.pages} pages exact, {len(self.lost_posts)} with every citation lost"
        )


def score(extract: Callable[[Page], list[str]], part: str, key: Callable[[str], str]) -> Score:
    """Score ``extract`` (a page → the URLs it would archive) on one part of the corpus."""
    result = Score()
    for page in pages(part):
        predicted = {key(url) for url in extract(page)}
        result.add(page.name, predicted, {key(c["url"]) for c in page.truth})
    return result
