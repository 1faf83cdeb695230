"""A tiny real DNS server on 127.0.0.1 whose answers change per query, for DNS-rebinding tests.

``python -m tests.dnsserver '{"rebind.test": ["93.184.216.34", "127.0.0.1"]}'`` prints
``{"port": N}`` and answers the n-th A query for a name with the n-th address of its
list (the last one repeats); other names get NXDOMAIN. A ``/__queries`` style log goes
to stderr, one line per query.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from twisted.internet import defer, reactor
from twisted.names import common, dns, error, server


class RebindingAuthority(common.ResolverBase):
    """Answers from a script of addresses, one step per A (or ANY) query, with TTL 0."""

    def __init__(self, script: dict[str, list[str]]):
        super().__init__()
        self.script = {name.lower().rstrip("."): list(ips) for name, ips in script.items()}
        self.queries: dict[str, int] = {}

    def _lookup(self, raw_name: bytes, cls: int, type: int, timeout: Any) -> defer.Deferred[Any]:  # noqa: A002
        name = raw_name.decode("ascii").lower().rstrip(".")
        ips = self.script.get(name)
        if type not in (dns.A, dns.ALL_RECORDS) or not ips:
            return defer.fail(error.DomainError(name))
        count = self.queries.get(name, 0)
        self.queries[name] = count + 1
        ip = ips[min(count, len(ips) - 1)]
        print(f"query {name} -> {ip}", file=sys.stderr, flush=True)
        answer = dns.RRHeader(name=raw_name, type=dns.A, ttl=0, payload=dns.Record_A(ip, ttl=0))
        return defer.succeed(([answer], [], []))


def main() -> None:
    script = json.loads(sys.argv[1])
    factory = server.DNSServerFactory(authorities=[RebindingAuthority(script)])
    protocol = dns.DNSDatagramProtocol(controller=factory)
    port = reactor.listenUDP(0, protocol, interface="127.0.0.1")  # type: ignore[attr-defined]
    print(json.dumps({"port": port.getHost().port}), flush=True)
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
