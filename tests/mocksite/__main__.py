"""Start the mock servers, print their base URLs as one JSON line, serve until told to stop."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from tests.mocksite.server import MockServer, respond_blog, respond_sites, serve


def _wait_for_eof(stop: threading.Event) -> None:
    # The parent holds our stdin open; when it exits (even killed), the pipe closes.
    while sys.stdin.buffer.read(4096):
        pass
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mocksite", description=__doc__)
    parser.add_argument("--blog-port", type=int, default=0)
    parser.add_argument("--sites-port", type=int, default=0)
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="keep serving when stdin closes"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sites = MockServer(args.sites_port, respond_sites)
    blog = MockServer(args.blog_port, respond_blog)
    blog.sites_url = sites.base_url
    threads = [serve(sites), serve(blog)]
    print(json.dumps({"blog": blog.base_url, "sites": sites.base_url}), flush=True)
    if not args.ignore_stdin:
        threading.Thread(target=_wait_for_eof, args=(stop,), daemon=True).start()
    while not stop.wait(0.2):
        pass
    for server in (blog, sites):
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
