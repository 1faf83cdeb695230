"""Issue 7H: one connection per host, the delay, Retry-After and robots.txt, timed by the server's own clock."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import CliRun, run_cli
from tests.mocksite.polite import EVERYONE_PREFIX, NAMED_PREFIX, OPEN_PREFIX, ROBOTS_TXT

DELAY = 0.3  # --delay of the timed run
SLOW = 0.2  # each slow page takes this long to answer
RETRY_AFTER = 1  # what /polite/retry/429 asks for
HUGE_RETRY_AFTER = 3600  # what /polite/retry/503 asks for
CAP = 2.0  # --retry-after-max of the timed run
CLOCK_SLACK = 0.02  # the server stamps a request when parsed; the crawler's timer runs a little earlier
COLD_START_SLACK = 0.1  # the run's first request also waits for its connection's set-up (~40 ms measured)
TOKEN = "citearchive"


@dataclass
class Run:
    cli: CliRun
    out: Path
    tag: str
    manifest: dict[str, Any]
    received: list[dict[str, Any]]  # both servers (one host, 127.0.0.1), by arrival time

    def capture(self, url: str) -> dict[str, Any]:
        for post in self.manifest["posts"]:
            for citation in post["citations"]:
                if citation["url"] == url:
                    return dict(citation["capture"])
        raise AssertionError(f"{url} is not a citation of the run")

    def hits(self, path_part: str) -> list[dict[str, Any]]:
        return [r for r in self.received if path_part in r["target"]]


def crawl(mocksite: Any, tmp_path: Path, urls: list[str], *flags: str) -> Run:
    """Archive a local post citing ``urls``; return the manifest and the requests both servers saw."""
    tag = tmp_path.name
    links = "\n".join(f'<p>Source {i}: <a href="{url}">page {i}</a>.</p>' for i, url in enumerate(urls))
    post = tmp_path / "post.html"
    post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    before = {server: len(mocksite.received(server)) for server in ("sites", "blog")}
    out = tmp_path / "out"
    cli = run_cli(["archive", str(post), "--out", str(out), "--allow-private", "--retries", "1", *flags], tmp_path)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert cli.violations == []
    received = sorted(
        ({**r, "server": s} for s in ("sites", "blog") for r in mocksite.received(s)[before[s] :]),
        key=lambda r: r["time"],
    )
    (path,) = [p for p in (out / "collections" / "citations" / "manifests").glob("*.json") if p.name.count(".") == 1]
    return Run(cli, out, tag, json.loads(path.read_text(encoding="utf-8")), received)


def polite_urls(mocksite: Any, tag: str) -> dict[str, str]:
    sites = mocksite.sites
    urls = {f"slow{i}": f"{sites}/slow.html?delay={SLOW}&polite={tag}-{i}" for i in range(4)}
    urls["named"] = f"{sites}{NAMED_PREFIX}page.html?polite={tag}"
    urls["everyone"] = f"{sites}{EVERYONE_PREFIX}page.html?polite={tag}"
    urls["open"] = f"{sites}{OPEN_PREFIX}page.html?polite={tag}"
    urls["429"] = f"{sites}/polite/retry/429?after={RETRY_AFTER}&polite={tag}"
    urls["503"] = f"{sites}/polite/retry/503?after={HUGE_RETRY_AFTER}&polite={tag}"
    urls["blog"] = f"{mocksite.blog}/about?polite={tag}"  # another origin on the same host
    return urls


@pytest.fixture(scope="module")
def timed(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, str]]:
    """One crawl with the default robots policy, --delay 0.3 and --retry-after-max 2."""
    tmp = tmp_path_factory.mktemp(f"polite-{uuid.uuid4().hex[:8]}")
    urls = polite_urls(mocksite, tmp.name)
    run = crawl(mocksite, tmp, list(urls.values()), "--delay", str(DELAY), "--retry-after-max", str(CAP))
    return run, urls


def overlaps(received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of requests one server was answering at the same time."""
    return [(a["target"], b["target"]) for a, b in pairwise(received) if b["time"] < a["done"]]


# ------------------------------------------------------------------ one connection, the delay


def test_requests_to_one_host_never_overlap_and_keep_the_delay(timed: tuple[Run, dict[str, str]]) -> None:
    run, _ = timed
    assert len(run.received) >= 14  # 2 robots.txt, 10 citations, a retry each for 429 and 503, probes
    assert overlaps(run.received) == []
    first, *gaps = [b["time"] - a["time"] for a, b in pairwise(run.received)]
    # The run's first request leaves later than Scrapy's clock says (a cold connection),
    # so the server sees the gap after it shortened by that set-up time.
    assert first >= DELAY - COLD_START_SLACK, first
    assert min(gaps) >= DELAY - CLOCK_SLACK, sorted(gaps)[:3]
    print(
        f"\npoliteness: {len(run.received)} requests to 127.0.0.1, first gap {first:.3f} s, "
        f"smallest later start-to-start gap {min(gaps):.3f} s"
    )


def test_the_overlap_check_sees_parallel_requests(mocksite: Any, tmp_path: Path) -> None:
    """The control: four slow requests sent at once from threads are seen overlapping."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    port = urlsplit(mocksite.sites).port
    targets = [f"/slow.html?delay={SLOW}&control={tmp_path.name}-{i}" for i in range(4)]

    def fetch(target: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", target)
            conn.getresponse().read()
        finally:
            conn.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fetch, targets))
    seen = sorted((r for r in mocksite.received() if f"control={tmp_path.name}" in r["target"]), key=lambda r: r["time"])
    assert len(seen) == 4 and len(overlaps(seen)) == 3


def test_delay_zero_still_keeps_one_connection_per_host(mocksite: Any, tmp_path: Path) -> None:
    """Scrapy 2.19 sends a host's queued requests together when a slot's delay is 0
    (measured: 2 of 3 consecutive pairs overlapped); the DelayFloor extension keeps 1 ms."""
    urls = [f"{mocksite.sites}/slow.html?delay={SLOW}&zero={tmp_path.name}-{i}" for i in range(4)]
    run = crawl(mocksite, tmp_path, urls, "--delay", "0", "--robots", "ignore")
    assert len(run.hits(f"zero={tmp_path.name}")) == 4
    assert overlaps(run.received) == []


# ------------------------------------------------------------------ Retry-After


def test_retry_after_is_honoured(timed: tuple[Run, dict[str, str]]) -> None:
    run, urls = timed
    first, retry = run.hits(urls["429"].split("/polite/", 1)[1])
    waited = retry["time"] - first["done"]
    assert waited >= RETRY_AFTER - CLOCK_SLACK
    # The whole host waited, not only the retry.
    during = [r["target"] for r in run.received if first["done"] < r["time"] < first["done"] + RETRY_AFTER - CLOCK_SLACK]
    assert during == []
    capture = run.capture(urls["429"])
    assert capture["status"] == "archived" and capture["http_status"] == 200
    assert [hop["http_status"] for hop in capture["hops"]] == [429, 200]  # the 429 is archived too
    print(f"\nRetry-After {RETRY_AFTER}: the retry came {waited:.2f} s after the 429")


def test_a_huge_retry_after_is_capped(timed: tuple[Run, dict[str, str]]) -> None:
    run, urls = timed
    first, retry = run.hits(urls["503"].split("/polite/", 1)[1])
    waited = retry["time"] - first["done"]
    assert waited >= CAP - CLOCK_SLACK
    # The host's next request, whichever it was, came when the cap ran out, not an hour later
    # (the retry itself may queue behind the host's other requests, a delay apart).
    resumed = min(r["time"] for r in run.received if r["time"] > first["done"]) - first["done"]
    assert CAP - CLOCK_SLACK <= resumed < CAP + DELAY + 0.5
    assert run.capture(urls["503"])["status"] == "archived"
    print(
        f"\nRetry-After {HUGE_RETRY_AFTER} with --retry-after-max {CAP}: the host resumed {resumed:.2f} s "
        f"after the 503, the retry came {waited:.2f} s after it"
    )


# ------------------------------------------------------------------ robots.txt


def test_robots_txt_is_fetched_once_per_origin(timed: tuple[Run, dict[str, str]]) -> None:
    run, _ = timed
    robots = [(r["server"], r["target"]) for r in run.received if r["target"].startswith("/robots.txt")]
    assert sorted(robots) == [("blog", "/robots.txt"), ("sites", "/robots.txt")]
    # It was asked for before anything else on its origin, with citearchive's User-Agent.
    for server in ("sites", "blog"):
        mine = [r for r in run.received if r["server"] == server]
        assert mine[0]["target"] == "/robots.txt"
        assert any(name.lower() == "user-agent" and value.startswith(TOKEN) for name, value in mine[0]["headers"])


def test_default_policy_obeys_rules_naming_citearchive_only(timed: tuple[Run, dict[str, str]], mocksite: Any) -> None:
    run, urls = timed
    named = run.capture(urls["named"])
    assert named["status"] == "blocked"
    assert named["reason"] == "robots.txt disallows citearchive"
    assert named["robots"]["verdict"] == "disallowed" and named["robots"]["group"] == TOKEN
    assert run.hits(NAMED_PREFIX) == []  # never requested
    everyone = run.capture(urls["everyone"])
    assert everyone["status"] == "archived"  # a user-chosen citation: User-agent: * is recorded only
    assert {k: everyone["robots"][k] for k in ("verdict", "policy", "group")} == {
        "verdict": "disallowed",
        "policy": "named",
        "group": "*",
    }
    assert run.capture(urls["open"])["robots"]["verdict"] == "allowed"
    blog = run.capture(urls["blog"])["robots"]  # the blog has no robots.txt: no rules, not a block
    assert blog["verdict"] == "unavailable" and blog["http_status"] == 404
    assert blog["url"] == mocksite.blog + "/robots.txt"


def test_robots_txt_is_archived_where_the_verdict_says(timed: tuple[Run, dict[str, str]], mocksite: Any) -> None:
    run, urls = timed
    verdict = run.capture(urls["open"])["robots"]
    assert verdict["url"] == mocksite.sites + "/robots.txt" and verdict["http_status"] == 200
    path = run.out / "collections" / "citations" / "archive" / verdict["warc_file"]
    with path.open("rb") as stream:
        stream.seek(verdict["offset"])
        record = next(iter(ArchiveIterator(stream)))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == verdict["url"]
        assert record.content_stream().read() == ROBOTS_TXT


@pytest.mark.parametrize(
    ("policy", "named", "everyone"),
    [("obey", "blocked", "blocked"), ("record", "archived", "archived"), ("ignore", "archived", "archived")],
)
def test_robots_policies(mocksite: Any, tmp_path: Path, policy: str, named: str, everyone: str) -> None:
    urls = polite_urls(mocksite, tmp_path.name)
    chosen = [urls["named"], urls["everyone"], urls["open"]]
    run = crawl(mocksite, tmp_path, chosen, "--robots", policy, "--delay", "0.05")
    assert run.capture(urls["named"])["status"] == named
    assert run.capture(urls["everyone"])["status"] == everyone
    assert run.capture(urls["open"])["status"] == "archived"
    robots_fetches = len(run.hits("/robots.txt"))
    if policy == "ignore":
        assert robots_fetches == 0
        assert all("robots" not in run.capture(url) for url in chosen)
        return
    assert robots_fetches == 1
    verdict = run.capture(urls["named"])["robots"]
    assert (verdict["verdict"], verdict["group"], verdict["policy"]) == ("disallowed", TOKEN, policy)
    assert run.capture(urls["everyone"])["robots"]["group"] == "*"
    if policy == "obey":
        assert run.capture(urls["everyone"])["reason"].startswith("robots.txt disallows citearchive")
        assert run.hits(EVERYONE_PREFIX) == []


def test_robots_txt_goes_through_the_ssrf_guard(mocksite: Any, tmp_path: Path) -> None:
    """Without --allow-private a name that resolves to loopback gets neither its robots.txt nor the page fetched."""
    port = int(mocksite.sites.rsplit(":", 1)[1])
    url = f"http://loop.test:{port}{OPEN_PREFIX}page.html?guard={tmp_path.name}"
    links = f'<p>A source: <a href="{url}">page</a>.</p>'
    post = tmp_path / "post.html"
    post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    before = len(mocksite.received())
    args = ["archive", str(post), "--out", str(tmp_path / "out"), "--resolve", "loop.test:127.0.0.1"]
    cli = run_cli([*args, "--retries", "0", "--delay", "0.05"], tmp_path)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert cli.violations == []
    assert mocksite.received()[before:] == []  # not robots.txt, not the page
    (path,) = [p for p in (tmp_path / "out" / "collections" / "citations" / "manifests").glob("*.json") if p.name.count(".") == 1]
    capture = json.loads(path.read_text(encoding="utf-8"))["posts"][0]["citations"][0]["capture"]
    assert capture["status"] == "blocked"
    robots = capture["robots"]
    assert robots["verdict"] == "unavailable" and robots["url"] == f"http://loop.test:{port}/robots.txt"
    assert "127.0.0.1" in robots["detail"]  # the guard's refusal, as for the page
