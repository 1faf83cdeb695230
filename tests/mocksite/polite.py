"""The sites server's robots.txt and the /polite/ pages: robots-ruled paths and Retry-After answers."""

from __future__ import annotations

import threading
from collections import Counter
from urllib.parse import parse_qs

from tests.mocksite.content import HTML, MockResponse, html_page

#: The sites server's robots.txt: one path closed to citearchive by name, one to every robot.
#: citearchive matches its own group, so by RFC 9309 §2.2.1 the "*" group is not its rule set;
#: citearchive still records that group's verdict (see crawler/middlewares/robots.py).
ROBOTS_TXT = b"""# The mock sites' robots.txt
User-agent: citearchive
Disallow: /polite/robots/named/

User-agent: *
Disallow: /polite/robots/everyone/
"""
NAMED_PREFIX = "/polite/robots/named/"
EVERYONE_PREFIX = "/polite/robots/everyone/"
OPEN_PREFIX = "/polite/robots/open/"
RETRY_PREFIX = "/polite/retry/"  # /polite/retry/429?after=2 or /polite/retry/503?after=...

PAGE = html_page("Polite page", "<h1>Polite page</h1>\n<p>Fetched with good manners.</p>")


class PoliteState:
    """How often each /polite/retry/ target was asked for (thread-safe): the first time it
    answers its status with ``Retry-After: <after>``, every later time 200."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()

    def respond(self, target: str) -> MockResponse | None:
        path, _, query = target.partition("?")
        if path == "/robots.txt":
            return MockResponse(200, (("Content-Type", "text/plain; charset=utf-8"),), ROBOTS_TXT)
        if path.startswith((NAMED_PREFIX, EVERYONE_PREFIX, OPEN_PREFIX)):
            return MockResponse(200, (("Content-Type", HTML),), PAGE)
        if not path.startswith(RETRY_PREFIX):
            return None
        status = path[len(RETRY_PREFIX) :]
        if status not in ("429", "503"):
            return None
        with self._lock:
            self._attempts[target] += 1
            attempt = self._attempts[target]
        if attempt > 1:
            return MockResponse(200, (("Content-Type", HTML),), PAGE)
        after = (parse_qs(query).get("after") or ["1"])[0]  # seconds or an HTTP-date, sent verbatim
        body = f"Busy: attempt {attempt}, come back later.\n".encode()
        return MockResponse(int(status), (("Content-Type", "text/plain"), ("Retry-After", after)), body)
