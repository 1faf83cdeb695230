"""A real redis-server on a free loopback port, worker subprocesses and a mock site that holds responses."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.mocksite.content import MockResponse, html_page
from tests.mocksite.server import MockHandler, MockServer, respond_sites, serve

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def run_redis(directory: Path) -> Iterator[str]:
    """Start redis-server (no persistence, its own dir); yield its URL; stop it by PID."""
    for _attempt in range(3):
        port = free_port()
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None and not _ping(port):
            time.sleep(0.05)
        if proc.poll() is None and _ping(port):
            break
        proc.kill()
        proc.wait()
    else:
        raise RuntimeError("redis-server did not start; is Debian's redis-server installed?")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cli_command(args: list[str], violations: Path) -> list[str]:
    """``citearchive ARGS`` behind the network guard (only 127.0.0.1 may be reached)."""
    return [sys.executable, "-m", "tests.netguard", str(violations), "--", *args]


def run(args: list[str], tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    violations = tmp / "violations.txt"
    violations.touch()
    return subprocess.run(
        cli_command(args, violations), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_worker(redis_url: str, out: Path, worker_id: str, tmp: Path, *extra: str) -> subprocess.Popen[str]:
    violations = tmp / "violations.txt"
    violations.touch()
    log = (tmp / f"worker-{worker_id}.log").open("w")
    args = ["worker", "--redis", redis_url, "--out", str(out), "--worker-id", worker_id, "--allow-private",
            "--idle-exit", "2", "--heartbeat", "1", *extra]
    return subprocess.Popen(
        cli_command(args, violations), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL,
    )


def violations(tmp: Path) -> list[str]:
    path = tmp / "violations.txt"
    return [line for line in path.read_text().splitlines() if line] if path.exists() else []


def write_post(path: Path, urls: list[str]) -> Path:
    links = "\n".join(f'<p>Source {i} is <a href="{url}">this page</a>.</p>' for i, url in enumerate(urls))
    path.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    return path


def load_manifest(out: Path, collection: str = "citations") -> dict[str, Any]:
    (path,) = (out / "collections" / collection / "manifests").glob("*.json")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


@dataclass
class HoldSite:
    """The mock cited sites, except that ``/hold/*`` answers only once :meth:`release` is called."""

    server: MockServer
    released: threading.Event

    @property
    def base(self) -> str:
        return self.server.base_url

    def requested(self, prefix: str) -> list[str]:
        with self.server.received_lock:
            return [r["target"] for r in self.server.received if r["target"].startswith(prefix)]

    def release(self) -> None:
        self.released.set()


@contextmanager
def run_hold_site() -> Iterator[HoldSite]:
    released = threading.Event()

    def respond(target: str, handler: MockHandler) -> MockResponse:
        if target.startswith("/hold/"):
            released.wait(60)
            return MockResponse(200, (("Content-Type", "text/html; charset=utf-8"),), html_page("held", target))
        return respond_sites(target, handler)

    server = MockServer(0, respond)
    thread = serve(server)
    try:
        yield HoldSite(server, released)
    finally:
        released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
