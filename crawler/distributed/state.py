"""The run's shared state in Redis: its identity, tasks, registered posts and live workers."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis

from crawler.commands.common import UsageError
from crawler.distributed import tasks
from crawler.distributed.keys import RUN_KEY, RunKeys
from crawler.runid import new_run_id

if TYPE_CHECKING:
    from collections.abc import Iterable

Redis = Any  # redis.Redis; the replay extra's redis 2.10 has no type hints


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    collection: str
    started: str

    @property
    def keys(self) -> RunKeys:
        return RunKeys(self.run_id)


def connect(url: str) -> Redis:
    """A client for ``redis://HOST:PORT/DB``; bad URLs and unreachable servers are usage errors."""
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=10, socket_timeout=30)
        client.ping()
    except ValueError as exc:
        raise UsageError(f"invalid --redis URL {url!r}: {exc}; use redis://HOST:PORT/DB") from exc
    except redis.RedisError as exc:
        raise UsageError(f"cannot reach Redis at {url}: {exc}; start redis-server or fix --redis") from exc
    return client


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def load_run(client: Redis) -> RunInfo | None:
    data = client.hgetall(RUN_KEY)
    if not data or not data.get("run_id"):
        return None
    return RunInfo(data["run_id"], data.get("collection", "citations"), data.get("started", utc_now()))


def require_run(client: Redis, url: str) -> RunInfo:
    run = load_run(client)
    if run is None:
        raise UsageError(f"no run in Redis at {url}: start one with `citearchive enqueue SOURCE... --redis {url}`")
    return run


def open_run(client: Redis, collection: str) -> RunInfo:
    """The run in progress, or a new one; adding to a run in progress must name its collection."""
    candidate = {"run_id": new_run_id(), "collection": collection, "started": utc_now()}
    # HSETNX on run_id makes two concurrent `enqueue` agree on one run.
    if client.hsetnx(RUN_KEY, "run_id", candidate["run_id"]):
        client.hset(RUN_KEY, mapping={"collection": collection, "started": candidate["started"]})
    run = load_run(client)
    if run is None or not client.hget(RUN_KEY, "collection"):
        time.sleep(0.2)  # the other enqueue is between its two writes
        run = load_run(client)
    assert run is not None
    if run.collection != collection:
        raise UsageError(
            f"run {run.run_id} in progress archives into collection {run.collection!r}, not {collection!r}: "
            "finalize it first or pass the same --collection"
        )
    return run


def register_post(client: Redis, run: RunInfo, post_id: str, source: str, **fields: Any) -> None:
    seq = int(client.hincrby(RUN_KEY, "seq", 1))
    client.hsetnx(run.keys.posts, post_id, tasks.registration(seq, source, **fields))


def push_tasks(client: Redis, run: RunInfo, items: Iterable[tasks.Task]) -> int:
    encoded = [tasks.encode(task) for task in items]
    if encoded:
        client.rpush(run.keys.tasks, *encoded)
    return len(encoded)


def registrations(client: Redis, run: RunInfo) -> dict[str, str]:
    return dict(client.hgetall(run.keys.posts))


def claim_worker(client: Redis, run: RunInfo, worker_id: str, ttl: float) -> bool:
    """Mark ``worker_id`` alive; False when a live worker already has that id."""
    keys = run.keys
    info = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": utc_now()})
    if not client.set(keys.alive(worker_id), info, nx=True, px=int(ttl * 1000)):
        return False
    client.hset(keys.workers, worker_id, info)
    return True


def live_workers(client: Redis, run: RunInfo) -> list[str]:
    prefix = run.keys.alive("")
    return sorted(key[len(prefix) :] for key in client.scan_iter(match=run.keys.alive_pattern))


def queued(client: Redis, run: RunInfo) -> int:
    """Tasks not yet read plus requests in the shared scheduler queue."""
    return int(client.llen(run.keys.tasks)) + int(client.zcard(run.keys.requests))


def end_run(client: Redis, run: RunInfo) -> None:
    """Forget the run: the next `enqueue` starts a new one (and re-archives what it cites)."""
    client.delete(*run.keys.fixed())
    if client.hget(RUN_KEY, "run_id") == run.run_id:
        client.delete(RUN_KEY)
