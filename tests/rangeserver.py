"""A static file server on 127.0.0.1 that answers single byte ranges (RFC 9110 §14), as a WACZ host must.

``python -m tests.rangeserver ROOT LOG`` prints ``{"url": "http://127.0.0.1:PORT"}`` once it
listens, writes one JSON line per request to LOG, and stops when its standard input closes.
Python's http.server sends the whole file whatever the Range header says; ReplayWeb.page reads a
WACZ by ranges (the zip's end, each member's local header and data), so it needs one that does not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``bytes=A-B``, ``bytes=A-`` or ``bytes=-N`` → (first, last) inclusive; None if unsatisfiable."""
    match = RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


class RangeHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".wacz": "application/wacz"}
    log_lock = threading.Lock()

    def __init__(self, *args: Any, log: IO[str], **kwargs: Any) -> None:
        self.log = log
        self.left: int | None = None
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self) -> Any:
        self.left = None
        path = self.translate_path(self.path)
        header = self.headers.get("Range")
        if header is None or not os.path.isfile(path):
            return super().send_head()
        source = open(path, "rb")  # noqa: SIM115 - closed by do_GET/do_HEAD
        size = os.fstat(source.fileno()).st_size
        span = parse_range(header, size)
        if span is None:
            source.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = span
        source.seek(start)
        self.left = end - start + 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(self.left))
        self.end_headers()
        return source

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self.left is None:
            shutil.copyfileobj(source, outputfile)
            return
        while self.left and (chunk := source.read(min(self.left, 64 * 1024))):
            outputfile.write(chunk)
            self.left -= len(chunk)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        entry = {"method": self.command, "path": self.path, "range": self.headers.get("Range"), "status": int(code)}
        with self.log_lock:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # errors reach the request log through log_request; keep stderr for tracebacks


@dataclass(frozen=True)
class StaticServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    pid: int
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@contextmanager
def static_server(root: Path, log: Path, startup_timeout: float = 20.0) -> Iterator[StaticServer]:
    """Serve ``root`` with ``python -m tests.rangeserver`` on a free port; stop it, by PID, on exit."""
    from tests.mocksite.fixture import _read_line, _stop

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.rangeserver", str(root), str(log)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = _read_line(proc.stdout, startup_timeout)
        if not line:
            raise RuntimeError(f"tests.rangeserver exited with code {proc.wait()} before printing its URL")
        yield StaticServer(json.loads(line)["url"], proc.pid, log)
    finally:
        _stop(proc)


def main(argv: list[str]) -> int:
    root, log_path = Path(argv[0]), Path(argv[1])
    with log_path.open("a", encoding="utf-8") as log:
        handler = partial(RangeHandler, directory=str(root), log=log)
        with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
            sys.stdin.read()  # until the test closes our stdin (or the pipe breaks)
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
