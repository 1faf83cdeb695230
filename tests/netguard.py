"""Run the CLI in a process that may reach 127.0.0.1 only; every other attempt is recorded and refused."""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def install(violations_path: str) -> None:
    """Patch socket connects and name lookups; log refused targets to ``violations_path``."""

    def record(what: str) -> None:
        with open(violations_path, "a", encoding="utf-8") as handle:
            handle.write(what + "\n")

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def address_allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return True
        return _is_loopback(address[0])

    def connect(self: socket.socket, address: Any) -> None:
        if not address_allowed(self, address):
            record(f"connect {address!r}")
            raise OSError(101, "network unreachable (blocked by the test network guard)")
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not address_allowed(self, address):
            record(f"connect_ex {address!r}")
            return 101
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # Literal forbidden addresses are fine to parse (the SSRF guard must
        # see them); only names that need a DNS query would leave the machine.
        if host is not None and not _is_loopback(host) and not _is_numeric(host):
            record(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "name lookup blocked by the test network guard")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


def _is_numeric(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        original = socket.inet_aton  # accepts 127.1, 2130706433, 0x7f.1
        original(host)
        return True
    except (OSError, TypeError):
        pass
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%", 1)[0])
        return True
    except ValueError:
        return False


def main() -> int:
    """``python -m tests.netguard VIOLATIONS_FILE -- citearchive-args...``."""
    violations_path, *argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    install(violations_path)
    from crawler.cli import main as cli_main

    sys.argv[1:] = argv  # as the console script runs it: main() reads sys.argv
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
