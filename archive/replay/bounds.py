"""A bound on how much of an archived body pywb decodes: a compression bomb stops at the cap."""

from __future__ import annotations

from typing import Any

from warcio.limitreader import LimitReader

__all__ = ["DEFAULT_MAX_DECODED", "BoundedRewriter"]

#: Decoded bytes of one archived body that replay rewrites or decodes; the rest is cut off.
DEFAULT_MAX_DECODED = 64 * 1024 * 1024


class BoundedRewriter:
    """Wraps a pywb content rewriter so ``record.content_stream()`` yields at most ``limit`` bytes.

    pywb decodes Content-Encoding through warcio's ``BufferedReader`` when it rewrites a body (or
    when the client does not accept the encoding), and its HTML rewriter reads up to the next line
    break: a gzip bomb without newlines would be inflated in memory whole. A ``LimitReader`` around
    the decoded stream bounds both the memory and the bytes sent. Raw replay (``id_`` with
    ``Accept-Encoding: gzip``) never decodes and is bounded by the record length.
    """

    def __init__(self, rewriter: Any, limit: int = DEFAULT_MAX_DECODED) -> None:
        self.rewriter = rewriter
        self.limit = limit

    def __call__(self, record: Any, *args: Any, **kwargs: Any) -> Any:
        decode = record.content_stream
        limit = self.limit

        def bounded() -> LimitReader:
            return LimitReader(decode(), limit)

        record.content_stream = bounded
        return self.rewriter(record, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rewriter, name)
