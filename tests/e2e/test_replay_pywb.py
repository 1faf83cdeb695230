"""pywb replays what the crawl wrote, straight from the output directory (`wayback -d OUT`)."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e.test_archive_run import COLLECTION, ArchivedRun, archived  # noqa: F401 - module fixture
from tests.wayback import run_wayback

EXPECTED_TEXT = {
    "/pages/plain.html": "The plain page text.",
    "/gzip.html": "Compressed page text",
    "/chunked.html": "Chunked page text",
    "/redirect/start": "Final destination",
    "/cookies.html": "Cookie page",
}


@pytest.fixture(scope="module")
def wayback(archived: ArchivedRun) -> Iterator[str]:  # noqa: F811
    with run_wayback(archived.out) as base:
        yield base


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    """GET through the replay server without following redirects (hops are replayed one by one)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def decoded(body: bytes, headers: dict[str, str]) -> str:
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8", "replace")


def test_pywb_replays_each_archived_citation(archived: ArchivedRun, wayback: str) -> None:  # noqa: F811
    citations = archived.citations()
    replayed = 0
    for citation in citations.values():
        capture = citation["capture"]
        if capture["status"] != "archived":
            continue
        status, body, headers = fetch(f"{wayback}/{COLLECTION}/{capture['timestamp']}id_/{capture['final_url']}")
        assert status == 200, citation["url"]
        for path, text in EXPECTED_TEXT.items():
            if citation["url"] == f"{archived.sites}{path}":
                assert text in decoded(body, headers), path
        replayed += 1
    assert replayed >= 7


def test_pywb_replays_redirect_hops(archived: ArchivedRun, wayback: str) -> None:  # noqa: F811
    capture = archived.citations()[f"{archived.sites}/redirect/start"]["capture"]
    first, second, last = capture["hops"]
    status, _, headers = fetch(f"{wayback}/{COLLECTION}/{first['timestamp']}id_/{first['url']}")
    assert status == 302
    assert headers["Location"].endswith("/redirect/middle")
    status, _, _ = fetch(f"{wayback}/{COLLECTION}/{last['timestamp']}id_/{last['url']}")
    assert status == 200


def test_pywb_framed_replay_of_the_post(archived: ArchivedRun, wayback: str) -> None:  # noqa: F811
    post = archived.manifest["posts"][0]
    status, body, _ = fetch(f"{wayback}/{COLLECTION}/{post['snapshot']['timestamp']}mp_/{post['url']}")
    assert status == 200
    assert b"sources" in body.lower()
