"""Where a collection's files live: pywb's layout, so `wayback -d OUT` replays it as is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Collection:
    """``OUT/collections/NAME/{archive,indexes,manifests,logs}``."""

    out: Path
    name: str

    @property
    def root(self) -> Path:
        return self.out / "collections" / self.name

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def index_path(self) -> Path:
        return self.root / "indexes" / "index.cdxj"

    @property
    def manifests_dir(self) -> Path:
        return self.root / "manifests"

    def manifest_path(self, run_id: str) -> Path:
        return self.manifests_dir / f"{run_id}.json"

    def journal_path(self, run_id: str) -> Path:
        return self.manifests_dir / f"{run_id}.journal.jsonl"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log_path(self, run_id: str) -> Path:
        """The run's log: every log line of its crawl (Scrapy's among them) and of the stages after it."""
        return self.logs_dir / f"{run_id}.log"

    def create(self) -> None:
        for directory in (self.archive_dir, self.index_path.parent, self.manifests_dir):
            directory.mkdir(parents=True, exist_ok=True)
