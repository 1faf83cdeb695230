"""Keeps pywb's file reads inside their directories with symlinks resolved: static files and indexed WARCs."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["confine_archive_app", "inside"]


def inside(path: str, directory: str) -> bool:
    """True when ``path``, symlinks resolved, is ``directory`` or below it."""
    real, root = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([real, root]) == root


class ConfinedStatic:
    """pywb's StaticHandler, refusing a file whose real path leaves its static directory.

    pywb checks the joined path with ``os.path.abspath`` only, so a symlink in a collection's
    ``static/`` (or OUT's) to a file or directory elsewhere would be served.
    """

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def __call__(self, environ: dict[str, Any], url_str: str) -> Any:
        from pywb.utils.wbexception import NotFoundException

        url = url_str.split("?")[0]
        url = url + "index.html" if url.endswith("/") else url
        # The directories pywb's handler tries, in its order.
        for directory in (environ.get("pywb.static_dir"), self.handler.static_path):
            if not directory:
                continue
            path = os.path.join(directory, url)
            if os.path.isfile(path):
                if not inside(path, directory):
                    raise NotFoundException("Requested a static file outside of static_dir")
                break
        return self.handler(environ, url_str)


class ConfinedResolver:
    """A pywb path resolver whose paths must stay in the collection's ``archive/`` directory.

    A CDXJ line's ``filename`` is joined to ``archive/`` as is: ``../`` in it, or a symlink in
    ``archive/``, would make replay open a file elsewhere. Such a path resolves to nothing, so pywb
    answers as for a missing WARC.
    """

    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver

    def __call__(self, filename: str, cdx: Any) -> Any:
        directory = self.resolver("", cdx)  # the template alone: this collection's archive/ directory
        paths = self.resolver(filename, cdx)
        if not isinstance(directory, str) or "://" in directory:
            return paths
        kept = [path for path in ([paths] if isinstance(paths, str) else paths or []) if inside(path, directory)]
        return kept or None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolver, name)


def confine_archive_app(app: Any) -> None:
    """Wrap the static handler and the WARC path resolvers of pywb's FrontEndApp ``app`` in place."""
    from pywb.warcserver.resource.responseloader import WARCPathLoader

    app.static_handler = ConfinedStatic(app.static_handler)
    handler = app.warcserver.auto_handler
    loaders = [loader for loader in getattr(handler, "resource_loaders", []) if isinstance(loader, WARCPathLoader)]
    if not loaders:
        # Fail at start-up, not silently, should a pywb release move these.
        raise RuntimeError("pywb's collection handler has no WARCPathLoader to confine; check the pywb version")
    for loader in loaders:
        resolvers = loader.resolve_loader.path_resolvers
        resolvers[:] = [ConfinedResolver(resolver) for resolver in resolvers]
