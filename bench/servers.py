"""The two serving regimes: nginx on loopback, and an asyncio server that delays every response by 100 ms."""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes {workers};
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{
        text/html html; text/css css; application/javascript js;
        image/png png; font/woff2 woff2;
    }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip_static on;
        gzip_vary on;
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Server:
    """A server subprocess, stopped by its PID (never by name)."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], port: int, log: IO[bytes]):
        self.name = name
        self.proc = proc
        self.port = port
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            # nginx: SIGQUIT is a graceful shutdown of the master and its workers.
            self.proc.send_signal(signal.SIGQUIT if self.name == "nginx" else signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_nginx(root: Path, tmp: Path, workers: int = 1) -> Server:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        raise RuntimeError("nginx is missing: apt-get install -y --no-install-recommends nginx (or run bench/run.py as root)")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # As root, nginx's workers would switch to "nobody", who cannot read a 0700 temp dir.
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=workers, user=user, tmp=tmp, port=port, root=root))
    log = (tmp / "nginx.out").open("wb")
    proc = subprocess.Popen([binary, "-p", str(tmp), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    server = Server("nginx", proc, port, log)
    try:
        wait_for_port(port, proc)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"nginx did not start: {exc}; see {tmp / 'error.log'}") from exc
    return server


def start_latency_server(root: Path, tmp: Path, delay: float) -> Server:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (tmp / "latency.out").open("wb")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--root", str(root), "--port", str(port), "--delay", str(delay)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    server = Server("latency", proc, port, log)
    try:
        wait_for_port(port, proc)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"the latency server did not start: {exc}; see {tmp / 'latency.out'}") from exc
    return server


# --- the latency server (run as a script) ------------------------------------------------


class Files:
    """Every file of the site in memory, with its pre-compressed variant when there is one."""

    def __init__(self, root: Path):
        self.plain: dict[str, bytes] = {}
        self.gzipped: dict[str, bytes] = {}
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            rel = "/" + path.relative_to(root).as_posix()
            if rel.endswith(".gz"):
                self.gzipped[rel[:-3]] = path.read_bytes()
            else:
                self.plain[rel] = path.read_bytes()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, files: Files, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            path = target.split("?", 1)[0]
            await asyncio.sleep(delay)
            body = files.plain.get(path)
            extra = ""
            if body is None:
                status, body, ctype = "404 Not Found", b"not found\n", "text/plain"
            else:
                status = "200 OK"
                ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
                if path in files.gzipped and "gzip" in headers.get("accept-encoding", ""):
                    body = files.gzipped[path]
                    extra = "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
            writer.write(
                f"HTTP/1.1 {status}\r\nServer: bench-latency\r\nContent-Type: {ctype}\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
            )
            if method != "HEAD":
                writer.write(body)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def serve(root: Path, port: int, delay: float) -> None:
    files = Files(root)
    server = await asyncio.start_server(lambda r, w: handle(r, w, files, delay), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a folder on 127.0.0.1, each response delayed")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    asyncio.run(serve(args.root, args.port, args.delay))


if __name__ == "__main__":
    main()
