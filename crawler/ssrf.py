"""The SSRF guard: which addresses may be fetched, enforced in the resolver every connection uses."""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Any

from scrapy.resolver import CachingHostnameResolver
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scrapy.crawler import Crawler
    from twisted.internet.interfaces import IAddress, IHostResolution
    from twisted.internet.base import ReactorBase
    from typing_extensions import Self

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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


class GuardedResolver(CachingHostnameResolver):
    """Scrapy's caching resolver, refusing forbidden addresses for every connection.

    Every host Scrapy connects to, numeric ones included, is resolved here and
    the connection is made to the addresses passed on, so there is no window
    between check and connect (DNS rebinding). A host whose every address is
    refused fails with Twisted's DNSLookupError; :meth:`refusal_for` tells why,
    which :class:`crawler.middlewares.addressguard.AddressGuardMiddleware`
    turns into a ``blocked`` outcome.
    """

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        allow_private: bool = False,
        trusted_hosts: Sequence[str] = (),
    ):
        super().__init__(reactor, cache_size)
        self.allow_private = allow_private
        self.trusted_hosts = frozenset(h.lower() for h in trusted_hosts)
        self._refusals: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            allow_private=settings.getbool("ARCHIVE_ALLOW_PRIVATE"),
            trusted_hosts=settings.getlist("ARCHIVE_TRUSTED_HOSTS"),
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
        if not self.allow_private and hostName.lower() not in self.trusted_hosts:
            receiver = _FilteringReceiver(resolutionReceiver, self, hostName)
        return super().resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )

    def refuse(self, host: str, ip: str, reason: str) -> None:
        message = refusal_message(host, ip, reason)
        if self._refusals.get(host.lower()) != message:
            logger.warning("Refused to connect: %(message)s", {"message": message})
        self._refusals[host.lower()] = message

    def refusal_for(self, host: str) -> str | None:
        """Why connecting to ``host`` was refused, if it was."""
        return self._refusals.get(host.lower())
