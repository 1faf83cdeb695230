"""WARC writing, CDXJ indexing and manifests for citearchive; knows nothing of Scrapy."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["software_version"]


def software_version() -> str:
    """The installed citearchive version, for warcinfo records and manifests."""
    try:
        return version("citearchive")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"
