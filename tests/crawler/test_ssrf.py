"""The address policy and literal-host parsing behind the SSRF guard."""

from __future__ import annotations

import ipaddress

import pytest

from crawler.ssrf import (
    forbidden_reason,
    is_localhost_name,
    parse_literal_host,
    parse_nameserver,
    parse_resolve_entry,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback (embedded in ::ffff:7f00:1)"),
        ("64:ff9b::a00:1", "private (embedded in 64:ff9b::a00:1)"),
        ("2002:7f00:1::", "loopback (embedded in 2002:7f00:1::)"),
    ],
)
def test_forbidden_addresses(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:85e5", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("example.org", None),
        ("localhost", None),
    ],
)
def test_literal_hosts_decode_like_the_resolver(host: str, expected: str | None) -> None:
    parsed = parse_literal_host(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("evil.test:10.0.0.1", ("evil.test", ["10.0.0.1"])),
        ("Multi.Test.:10.0.0.1,[::1]", ("multi.test", ["10.0.0.1", "::1"])),
    ],
)
def test_resolve_entries_parse_like_curl(entry: str, expected: tuple[str, list[str]]) -> None:
    assert parse_resolve_entry(entry) == expected


@pytest.mark.parametrize("entry", ["evil.test", "evil.test:", ":10.0.0.1", "evil.test:not-an-ip"])
def test_bad_resolve_entries_say_what_is_wrong(entry: str) -> None:
    with pytest.raises(ValueError, match="--resolve"):
        parse_resolve_entry(entry)


def test_nameserver_entries() -> None:
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("127.0.0.1") == ("127.0.0.1", 53)


@pytest.mark.parametrize(("name", "local"), [("localhost", True), ("a.b.localhost.", True), ("localhost.example", False)])
def test_localhost_names(name: str, local: bool) -> None:
    assert is_localhost_name(name) is local


@pytest.mark.parametrize("address", ["192.0.0.8", "198.18.0.1", "2001:db8::1", "100::1"])
def test_special_purpose_blocks_are_refused_whatever_python_says(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None
