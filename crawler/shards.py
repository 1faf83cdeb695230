"""Shards of one run split across crawl processes (`archive --processes N`): who requests which citation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.settings import BaseSettings

__all__ = ["SHARD_BY", "STAGING_DIR", "Shard", "run_warc_prefix", "shard_of", "shard_text", "useful_processes"]

#: What a citation is sharded by: its host (so one process holds a host's politeness limits) or its URL.
SHARD_BY = ("host", "url")
#: Where the crawl processes of a run write their WARCs: OUT/processes/RUN_ID/pI/collections/NAME/archive.
STAGING_DIR = "processes"


def shard_of(text: str, count: int) -> int:
    """A stable shard number of ``text`` in ``range(count)`` (SHA-1, not Python's per-process ``hash``)."""
    return _digest(text) % count


def _digest(text: str) -> int:
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def useful_processes(texts: Iterable[str], count: int) -> int:
    """The most crawl processes, up to ``count``, none of which would have no citation to request.

    ``texts`` are the citations' :func:`shard_text`. With N processes each requests the
    citations of its shard; shard 0 also archives the posts, so it has work even with no
    citation. 0 or 1 means one process: the crawl needs no other.
    """
    digests = {_digest(text) for text in texts}
    n = min(count, len(digests))
    while n > 1 and not {digest % n for digest in digests} >= set(range(1, n)):
        n -= 1
    return max(n, 1)


def shard_text(url: str, key: str, by: str) -> str:
    """What the shard of a citation is computed from: its lower-case host name, or its citation key."""
    if by == "url":
        return key
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:  # an unparseable URL still gets one owner
        return url


def run_warc_prefix(prefix: str, run_id: str) -> str:
    """What the WARC names of every crawl process of a run start with: ``citearchive-RUN_ID-p``."""
    return f"{prefix}-{run_id}-p"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count``: the citations whose host (or URL) hashes to ``index``.

    Shard 0 also owns the posts: it alone journals and archives their pages; the
    others fetch and read them only to find their own citations.
    """

    index: int
    count: int
    by: str = "host"

    @classmethod
    def parse(cls, value: str, by: str = "host") -> Shard:
        """``"I/N"``, as in the ``ARCHIVE_SHARD`` setting; raises ValueError otherwise."""
        index_text, sep, count_text = value.partition("/")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            index, count = -1, 0
        if not sep or count < 1 or not 0 <= index < count:
            raise ValueError(f"ARCHIVE_SHARD {value!r}: expected I/N with 0 <= I < N")
        if by not in SHARD_BY:
            raise ValueError(f"ARCHIVE_SHARD_BY {by!r}: expected one of {', '.join(SHARD_BY)}")
        return cls(index, count, by)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Shard | None:
        """The process's shard, or None when it crawls everything (``ARCHIVE_SHARD`` empty)."""
        value = settings.get("ARCHIVE_SHARD") or ""
        return cls.parse(value, settings.get("ARCHIVE_SHARD_BY") or "host") if value else None

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def owns_posts(self) -> bool:
        return self.index == 0

    @property
    def part(self) -> str:
        """The process's part of file names: ``p0``, ``p1``, ..."""
        return f"p{self.index}"

    def owns(self, url: str, key: str) -> bool:
        """True when this shard requests the citation of ``url`` (citation key ``key``)."""
        return shard_of(shard_text(url, key, self.by), self.count) == self.index

    def warc_prefix(self, prefix: str, run_id: str) -> str:
        """``citearchive-RUN_ID-pI``: no two processes (or runs) share a WARC name."""
        return f"{run_warc_prefix(prefix, run_id)}{self.index}"

    def journal_run_id(self, run_id: str) -> str:
        """The process's journal is ``manifests/RUN_ID.pI.journal.jsonl``."""
        return f"{run_id}.{self.part}"

    def staging_out(self, out: Path, run_id: str) -> Path:
        """The process's own output root for its WARCs, moved into the collection when it ends."""
        return out / STAGING_DIR / run_id / self.part
