"""The Redis keys of a distributed run and the names its workers write under."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMESPACE = "citearchive"
#: Hash of the run being crawled in this Redis database: run_id, collection, started.
RUN_KEY = f"{NAMESPACE}:run"
#: Where workers stage their files under ``--out``: workers/WORKER_ID/collections/NAME/...
STAGING_DIR = "workers"

_WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def valid_worker_id(worker_id: str) -> bool:
    """Letters, digits, ``-`` and ``_`` (it goes into file names and Redis keys)."""
    return bool(_WORKER_ID.match(worker_id))


@dataclass(frozen=True, slots=True)
class RunKeys:
    """Every key of one run lives under ``citearchive:RUN_ID:``."""

    run_id: str

    @property
    def prefix(self) -> str:
        return f"{NAMESPACE}:{self.run_id}"

    @property
    def tasks(self) -> str:
        """List of JSON tasks (posts, citations) the workers turn into requests."""
        return f"{self.prefix}:tasks"

    @property
    def requests(self) -> str:
        """scrapy-redis's shared scheduler queue (a sorted set)."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """scrapy-redis's shared fingerprint set."""
        return f"{self.prefix}:dupefilter"

    @property
    def posts(self) -> str:
        """Hash post_id → JSON registration of each enqueued post."""
        return f"{self.prefix}:posts"

    @property
    def workers(self) -> str:
        """Hash worker_id → JSON (host, pid, started) of every worker that joined."""
        return f"{self.prefix}:workers"

    def alive(self, worker_id: str) -> str:
        """Present (with a TTL refreshed by the heartbeat) while the worker runs."""
        return f"{self.prefix}:alive:{worker_id}"

    @property
    def alive_pattern(self) -> str:
        return f"{self.prefix}:alive:*"

    def fixed(self) -> list[str]:
        return [self.tasks, self.requests, self.dupefilter, self.posts, self.workers]

    def warc_prefix(self, worker_id: str) -> str:
        """WARC file names of a worker: ``citearchive-RUN_ID-WORKER_ID-TIMESTAMP-SERIAL.warc.gz``."""
        return f"{self.warc_prefix_of_run}{worker_id}"

    @property
    def warc_prefix_of_run(self) -> str:
        return f"citearchive-{self.run_id}-"

    def journal_run_id(self, worker_id: str) -> str:
        """The worker's journal is ``manifests/RUN_ID.WORKER_ID.journal.jsonl``."""
        return f"{self.run_id}.{worker_id}"
