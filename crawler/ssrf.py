"""The SSRF guard: which addresses may be fetched, enforced in the resolver every connection uses."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Any

from scrapy.resolver import CachingHostnameResolver
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

from crawler.urls import is_resolvable_host

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy.crawler import Crawler
    from twisted.internet.interfaces import IAddress, IHostResolution
    from twisted.internet.base import ReactorBase
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# IANA special-purpose blocks that are not globally reachable, for those the
# running Python's ipaddress tables still call global (they differ by version).
_SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
        "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fec0::/10",
    )
)  # fmt: skip
_GLOBAL_EXCEPTIONS = tuple(ipaddress.ip_address(a) for a in ("192.0.0.9", "192.0.0.10"))


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be fetched (loopback, private, ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason} (embedded in {ip})" if reason else None
    for kind, test in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if test:
            return kind
    if not ip.is_global:
        return "not globally routable"
    if ip not in _GLOBAL_EXCEPTIONS and any(ip in block for block in _SPECIAL_PURPOSE):
        return "special-purpose, not globally routable"
    return None


def parse_literal_host(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a resolver accepts.

    ``127.1``, ``2130706433``, ``0x7f.1`` and ``0177.0.0.1`` are all 127.0.0.1
    to getaddrinfo, so they are decoded the way ``inet_aton`` does.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def refusal_message(host: str, ip: str, reason: str) -> str:
    return f"{host} resolves to {ip}, a {reason} address (use --allow-private to archive it)"


@implementer(IResolutionReceiver)
class _FilteringReceiver:
    """Passes on only the resolved addresses the policy allows."""

    def __init__(self, receiver: Any, resolver: GuardedResolver, host: str):
        self._receiver = receiver
        self._resolver = resolver
        self._host = host

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self._receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        ip_text: str = getattr(address, "host", "")
        try:
            ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
        except ValueError:
            self._resolver.refuse(self._host, ip_text, "unparseable")
            return
        reason = forbidden_reason(ip)
        if reason is not None:
            self._resolver.refuse(self._host, ip_text, reason)
            return
        self._receiver.addressResolved(address)

    def resolutionComplete(self) -> None:
        self._receiver.resolutionComplete()


class _LookupFailures:
    """A twisted.names client whose failed lookups are :class:`DNSLookupError`, as the system resolver's are.

    It fails with DNSNameError (NXDOMAIN), DNSServerError, a timeout...;
    SimpleResolverComplexifier passes a DNSLookupError on as "no address" and
    logs anything else as a critical error with its traceback, on stderr too.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def getHostByName(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Any:  # noqa: N802 - Twisted's name
        from twisted.internet.error import DNSLookupError

        def as_lookup_error(failure: Failure) -> Failure:
            if isinstance(failure.value, DNSLookupError):
                return failure
            raise DNSLookupError(f"{name}: {failure.getErrorMessage()}") from failure.value

        return self.client.getHostByName(name, timeout).addErrback(as_lookup_error)


def is_localhost_name(host: str) -> bool:
    """``localhost`` and every name under ``.localhost`` are loopback (RFC 6761, section 6.3)."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def parse_resolve_entry(entry: str) -> tuple[str, list[str]]:
    """``HOST:ADDRESS[,ADDRESS...]`` (IPv6 in brackets allowed), as in curl's --resolve."""
    host, sep, addresses = entry.partition(":")
    parsed = []
    for text in addresses.split(","):
        try:
            parsed.append(str(ipaddress.ip_address(text.strip().strip("[]"))))
        except ValueError:
            raise ValueError(f"--resolve {entry!r}: {text.strip()!r} is not an IP address") from None
    if not host or not sep or not parsed:
        raise ValueError(f"--resolve {entry!r}: expected HOST:ADDRESS[,ADDRESS...]")
    return host.lower().rstrip("."), parsed


def parse_nameserver(entry: str) -> tuple[str, int]:
    """``HOST[:PORT]`` of a DNS server (port 53 by default)."""
    host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "53")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ValueError(f"--dns-server {entry!r}: expected HOST[:PORT]") from None


class GuardedResolver(CachingHostnameResolver):
    """Scrapy's caching resolver, refusing forbidden addresses for every connection.

    Every host Scrapy connects to, numeric ones included, is resolved here and
    the connection is made to the addresses passed on, so there is no window
    between check and connect (DNS rebinding); the cache pins a name's answer
    for the run. A host whose every address is refused fails with a DNS lookup
    error; :meth:`refusal_for` tells why, which
    :class:`crawler.middlewares.addressguard.AddressGuardMiddleware` turns into
    a ``blocked`` outcome. ``overrides`` answer for names like curl's
    ``--resolve``; ``nameservers`` replace the system resolver.
    """

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        allow_private: bool = False,
        trusted_hosts: Sequence[str] = (),
        overrides: dict[str, list[str]] | None = None,
        nameservers: Sequence[tuple[str, int]] = (),
    ):
        super().__init__(reactor, cache_size)
        self.allow_private = allow_private
        self.trusted_hosts = frozenset(h.lower() for h in trusted_hosts)
        self.overrides = {host.lower().rstrip("."): list(ips) for host, ips in (overrides or {}).items()}
        if nameservers:
            from twisted.internet._resolver import SimpleResolverComplexifier
            from twisted.names.client import Resolver

            dns_client: Any = Resolver(servers=list(nameservers), reactor=reactor)  # type: ignore[no-untyped-call]
            names_client: Any = _LookupFailures(dns_client)
            complexified: Any = SimpleResolverComplexifier(names_client)
            self.original_resolver = complexified
        self._refusals: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        overrides = dict(parse_resolve_entry(entry) for entry in settings.getlist("ARCHIVE_RESOLVE"))
        nameservers = [parse_nameserver(entry) for entry in settings.getlist("ARCHIVE_DNS_SERVERS")]
        return cls(
            reactor,
            cache_size,
            allow_private=settings.getbool("ARCHIVE_ALLOW_PRIVATE"),
            trusted_hosts=settings.getlist("ARCHIVE_TRUSTED_HOSTS"),
            overrides=overrides,
            nameservers=nameservers,
        )

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IResolutionReceiver:
        receiver: Any = resolutionReceiver
        host = hostName.lower().rstrip(".")
        if not self.allow_private and host not in self.trusted_hosts:
            if is_localhost_name(host):
                self._record(host, f"{hostName} is a localhost name, always loopback (use --allow-private to archive it)")
                return self._answer(resolutionReceiver, hostName, [], portNumber)
            receiver = _FilteringReceiver(resolutionReceiver, self, hostName)
        if host in self.overrides:
            return self._answer(receiver, hostName, self.overrides[host], portNumber)
        if not is_resolvable_host(hostName):
            # getaddrinfo would raise UnicodeError in the resolver's thread, an unhandled error in
            # Twisted's Deferred and a request left to time out: no address fails it now, cleanly.
            return self._answer(receiver, hostName, [], portNumber)
        resolution: IResolutionReceiver = super().resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )
        return resolution

    @staticmethod
    def _answer(receiver: Any, host_name: str, ips: list[str], port: int) -> IResolutionReceiver:
        from scrapy.resolver import HostResolution
        from twisted.internet.address import IPv4Address, IPv6Address

        receiver.resolutionBegan(HostResolution(host_name))
        for ip in ips:
            address_type = IPv6Address if ":" in ip else IPv4Address
            receiver.addressResolved(address_type("TCP", ip, port))
        receiver.resolutionComplete()
        answered: IResolutionReceiver = receiver
        return answered

    def refuse(self, host: str, ip: str, reason: str) -> None:
        self._record(host, refusal_message(host, ip, reason))

    def _record(self, host: str, message: str) -> None:
        key = host.lower().rstrip(".")
        if self._refusals.get(key) != message:
            logger.warning("Refused to connect: %(message)s", {"message": message})
        self._refusals[key] = message

    def refusal_for(self, host: str) -> str | None:
        """Why connecting to ``host`` was refused, if it was."""
        return self._refusals.get(host.lower().rstrip("."))
