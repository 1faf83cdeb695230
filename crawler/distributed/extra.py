"""Check that the `distributed` extra is installed before a command needs it."""

from __future__ import annotations

import importlib.util
from importlib.metadata import PackageNotFoundError, version

from crawler.commands.common import UsageError

INSTALL_HINT = "install it with: pip install 'citearchive[distributed]' (in an environment without the replay extra)"


def require_distributed() -> None:
    """scrapy-redis and redis>=4.2 (pywb's pinned redis 2.10 cannot serve a worker)."""
    if importlib.util.find_spec("scrapy_redis") is None:
        raise UsageError(f"scrapy-redis is not installed; {INSTALL_HINT}")
    try:
        major, minor = (int(part) for part in version("redis").split(".")[:2])
    except (PackageNotFoundError, ValueError) as exc:
        raise UsageError(f"the redis client is missing or unreadable; {INSTALL_HINT}") from exc
    if (major, minor) < (4, 2):
        raise UsageError(f"redis {major}.{minor} is installed but scrapy-redis needs redis>=4.2; {INSTALL_HINT}")
