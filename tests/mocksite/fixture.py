"""Run the mock site in a subprocess for the duration of a ``with`` block (or a session fixture)."""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

from tests.mocksite.content import LOOPBACK_PATH, SOURCES_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class MockSite:
    """Base URLs (``http://127.0.0.1:PORT``, no trailing slash) of a running mock site."""

    blog: str
    sites: str
    pid: int

    @property
    def post_url(self) -> str:
        return self.blog + SOURCES_PATH

    @property
    def loopback_post_url(self) -> str:
        return self.blog + LOOPBACK_PATH

    def site_url(self, target: str) -> str:
        return self.sites + target

    def blog_url(self, target: str) -> str:
        return self.blog + target

    def received(self, server: str = "sites") -> list[dict[str, Any]]:
        """The requests ``server`` ("sites" or "blog") has answered, oldest first."""
        return json.loads(self._get(server, "/__requests"))  # type: ignore[no-any-return]

    def set_live(self, path: str, mode: str = "ok", version: int = 1) -> None:
        """Make the sites server answer ``path`` (under /live/; a directory ending in "/"
        sets its unknown names) in ``mode`` from now on (see tests/mocksite/live.py)."""
        query = urlencode({"path": path, "mode": mode, "version": version})
        body = self._get("sites", f"/__set?{query}")
        if not body.startswith(path.encode()):
            raise ValueError(f"the mock site refused {path} {mode}: {body!r}")

    def reset(self, server: str = "sites") -> None:
        """Forget the requests ``server`` has answered."""
        self._get(server, "/__reset")

    def _get(self, server: str, path: str) -> bytes:
        # http.client, not urllib: no *_proxy variable may send this anywhere but 127.0.0.1.
        base = urlsplit(self.sites if server == "sites" else self.blog)
        conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port, timeout=10)
        try:
            conn.request("GET", path)
            return conn.getresponse().read()
        finally:
            conn.close()


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    lines: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True)
    reader.start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"The mock site printed nothing within {timeout} s") from None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()  # the server also stops on EOF
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@contextmanager
def run_mocksite(startup_timeout: float = 20.0) -> Iterator[MockSite]:
    """Start ``python -m tests.mocksite`` and yield its URLs; stop it, by PID, on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.mocksite"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = _read_line(proc.stdout, startup_timeout)
        if not line:
            raise RuntimeError(
                f"The mock site exited with code {proc.wait()} before printing its URLs; "
                "run `python -m tests.mocksite` from the repository root to see why"
            )
        urls = json.loads(line)
        yield MockSite(blog=urls["blog"], sites=urls["sites"], pid=proc.pid)
    finally:
        _stop(proc)
