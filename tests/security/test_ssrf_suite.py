"""Issue 7A: at least 60 forbidden targets, none fetched, on the address actually connected to."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from crawler.ssrf import forbidden_reason
from tests.conftest import REPO_ROOT, run_cli

IPV4_FORBIDDEN = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.254",
    "192.168.0.1", "192.168.255.254", "169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3",
    "100.64.0.1", "100.127.255.254", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7",
    "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
]  # fmt: skip
LOOPBACK_SPELLINGS = ["127.1", "2130706433", "0x7f.1", "0177.0.0.1", "0x7f000001", "017700000001", "127.0.1", "0"]
IPV6_FORBIDDEN = [
    "::1", "::", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "fc00::1",
    "fd12:3456::1", "fe80::1", "ff02::1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:db8::1",
]  # fmt: skip
LOCAL_NAMES = ["localhost", "x.localhost", "deep.sub.localhost", "LOCALHOST."]
# Names answered by --resolve, as an attacker's DNS would answer them.
RESOLVED_NAMES = {
    "private10.test": "10.0.0.5",
    "metadata.test": "169.254.169.254",
    "ula.test": "fd00::1",
    "mapped.test": "::ffff:127.0.0.1",
    "loop.test": "127.0.0.1",
    "multi.test": "10.1.1.1,192.168.1.1",
    "cgnat.test": "100.64.1.1",
    "linklocal6.test": "fe80::1",
}
# Names answered by a real DNS server on 127.0.0.1; rebind.test answers public first, loopback next.
DNS_SCRIPT = {"rebind.test": ["93.184.216.34", "127.0.0.1"], "loopdns.test": ["127.0.0.1"], "tenet.test": ["10.9.9.9"]}
REDIRECT_TARGETS = [
    "http://127.0.0.1:{port}/pages/plain.html?ssrf-canary=r1",
    "http://loop.test:{port}/pages/plain.html?ssrf-canary=r2",
    "http://[::1]:{port}/pages/plain.html?ssrf-canary=r3",
    "http://2130706433:{port}/pages/plain.html?ssrf-canary=r4",
    "http://169.254.169.254/latest/meta-data/",
    "http://x.localhost:{port}/pages/plain.html?ssrf-canary=r5",
    "file:///etc/passwd",
    "ftp://127.0.0.1/pub/",
    "gopher://127.0.0.1:70/_x",
    "s3://bucket/key",
    "data:text/html,hello",
]


def host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.fixture(scope="module")
def dns_server() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dnsserver", json.dumps(DNS_SCRIPT)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield int(json.loads(process.stdout.readline())["port"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def build_targets(port: int) -> dict[str, str]:
    """URL → the category it tests; loopback ones carry a canary marker in the query."""
    targets: dict[str, str] = {}
    marker = iter(range(1, 1000))
    canary = lambda: f"/pages/plain.html?ssrf-canary={next(marker)}"  # noqa: E731
    for address in IPV4_FORBIDDEN:
        targets[f"http://{address}:{port}{canary()}"] = "ipv4"
    for spelling in LOOPBACK_SPELLINGS:
        targets[f"http://{spelling}:{port}{canary()}"] = "encoding"
    for address in IPV6_FORBIDDEN:
        targets[f"http://[{address}]:{port}{canary()}"] = "ipv6"
    for name in LOCAL_NAMES:
        targets[f"http://{name}:{port}{canary()}"] = "localhost-name"
    for name in RESOLVED_NAMES:
        targets[f"http://{name}:{port}{canary()}"] = "resolves-private"
    for name in ("loopdns.test", "tenet.test"):
        targets[f"http://{name}:{port}{canary()}"] = "dns-private"
    targets[f"http://rebind.test:{port}{canary()}"] = "rebinding"
    targets[f"http://rebind.test:{port}{canary()}"] = "rebinding"
    targets[f"http://user:pass@127.0.0.1:{port}{canary()}"] = "userinfo"
    targets[f"http://public.test@127.1:{port}{canary()}"] = "userinfo"
    for template in REDIRECT_TARGETS:
        location = template.format(port=port)
        targets[f"http://public.test:{port}/redirect-to?url={quote(location, safe='')}"] = "redirect"
    for template in REDIRECT_TARGETS[:3]:
        location = template.format(port=port).replace("ssrf-canary=r", "ssrf-canary=m")
        targets[f"http://public.test:{port}/meta-refresh?url={quote(location, safe='')}"] = "meta-refresh"
    return targets


def canary_hits(mocksite: Any) -> list[str]:
    return [
        r["target"]
        for r in mocksite.received("sites")
        if r["target"].startswith("/pages/plain.html") and "ssrf-canary" in r["target"]
    ]


def test_no_forbidden_target_is_fetched(mocksite: Any, dns_server: int, tmp_path: Path) -> None:
    port = int(mocksite.sites.rsplit(":", 1)[1])
    targets = build_targets(port)
    assert len(targets) >= 60
    links = "\n".join(f'<p>Target {i} is <a href="{url}">here</a>.</p>' for i, url in enumerate(targets))
    post = tmp_path / "post.html"
    post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    before = canary_hits(mocksite)
    args = ["archive", str(post), "--out", str(tmp_path / "out"), "--collection", "ssrf", "--retries", "0"]
    args += ["--timeout", "5", "--dns-server", f"127.0.0.1:{dns_server}"]
    args += ["--trust-host", "public.test", "--resolve", "public.test:127.0.0.1"]
    for name, addresses in RESOLVED_NAMES.items():
        args += ["--resolve", f"{name}:{addresses}"]
    run = run_cli(args, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]

    (manifest_path,) = (tmp_path / "out" / "collections" / "ssrf" / "manifests").glob("*.json")
    citations = {c["url"]: c["capture"] for c in json.loads(manifest_path.read_text())["posts"][0]["citations"]}
    assert set(citations) == set(targets)
    outcomes = {url: (capture["status"], capture["reason"]) for url, capture in citations.items()}
    not_blocked = {url: outcome for url, outcome in outcomes.items() if outcome[0] != "blocked"}
    # rebind.test's first answer is public: the guard lets that connection through (the test's
    # network guard refuses it before it leaves the machine); its loopback answer is never used.
    assert all(targets[url] == "rebinding" for url in not_blocked), "\n".join(f"{u} {o}" for u, o in not_blocked.items())
    assert all(reason for _, reason in outcomes.values())

    hits = [hit for hit in canary_hits(mocksite) if hit not in before]
    attempted = [re.search(r"\('([^']+)'", line) for line in run.violations if line.startswith("connect")]
    forbidden_attempts = [
        match.group(1) for match in attempted if match and forbidden_reason(ipaddress.ip_address(match.group(1)))
    ]
    blocked = sum(1 for status, _ in outcomes.values() if status == "blocked")
    print(
        f"\nSSRF suite: {len(targets)} targets, {blocked} blocked, {len(not_blocked)} rebinding names "
        f"pinned to their public answer, {len(hits)} canary hits, {len(forbidden_attempts)} connection "
        f"attempts to forbidden addresses"
    )
    assert hits == []
    assert forbidden_attempts == []
    assert not any(line.startswith("getaddrinfo") for line in run.violations), run.violations
