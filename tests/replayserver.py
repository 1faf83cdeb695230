"""Run `citearchive replay` in a subprocess behind the network guard, for the replay tests."""

from __future__ import annotations

import http.client
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ReplayServer:
    landing: str  # http://127.0.0.1:PORT, no trailing slash
    archive: str
    pid: int
    log: Path
    violations: Path

    def landing_log(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.startswith("[replay.landing]")]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def get(base: str, target: str, headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
    """GET ``target`` (sent as is: no normalisation, no redirects followed) from ``base``."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", target, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def _pump(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)
    lines.put(b"")


@contextmanager
def replay_server(out: Path, workdir: Path, *extra: str, port: int = 0, archive_port: int | None = None) -> Iterator[ReplayServer]:
    """Start ``citearchive replay --out OUT`` on loopback; stop it, by PID, on exit."""
    log = workdir / f"replay-{port}.log"
    violations = workdir / f"replay-violations-{port}.txt"
    violations.touch()
    args = ["replay", "--out", str(out), "--host", "127.0.0.1", "--port", str(port), *extra]
    if archive_port is not None:
        args += ["--archive-port", str(archive_port)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.netguard", str(violations), "--", *args],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        urls: dict[str, str] = {}
        while len(urls) < 2:
            try:
                line = lines.get(timeout=60).decode()
            except queue.Empty:
                raise TimeoutError(f"replay printed no URLs: {log.read_text()[-2000:]}") from None
            if not line:
                raise RuntimeError(f"replay exited with {process.wait()}: {log.read_text()[-3000:]}")
            name, _, rest = line.partition(":")
            if name in ("Landing page", "Archive"):
                urls[name] = rest.split()[0].rstrip("/")
        yield ReplayServer(urls["Landing page"], urls["Archive"], process.pid, log, violations)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
