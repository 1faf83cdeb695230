"""
Archive errors, in the manner of httpx/_exceptions.py. The hierarchy:

* ArchiveError
  + WarcWriteError    - a WARC file could not be opened, written, renamed or recovered
  + IndexLookupError  - a WARC could not be indexed or the CDXJ index could not be read
  + ManifestError     - a manifest or journal failed validation or could not be written
  + CatalogError      - the collection's SQLite catalog could not be built or read
  + LockedError       - another run holds the collection's lock

Replay maps these to status codes the way pywb's ``WbException.status_code`` does.
"""

from __future__ import annotations

__all__ = ["ArchiveError", "CatalogError", "IndexLookupError", "LockedError", "ManifestError", "WarcWriteError"]


class ArchiveError(Exception):
    """Base class for every error raised by :mod:`archive`."""


class WarcWriteError(ArchiveError):
    """A WARC file could not be opened, written, renamed or recovered."""


class IndexLookupError(ArchiveError):
    """A WARC could not be indexed, or the CDXJ index could not be read."""


class ManifestError(ArchiveError):
    """A manifest failed schema validation or could not be written."""


class CatalogError(ArchiveError):
    """The collection's catalog could not be built or read."""


class LockedError(ArchiveError):
    """Another run holds the collection's lock."""
