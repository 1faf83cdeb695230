"""Scrapy's HTTP/1.1 download handler, whose transfers a stop cuts at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.asyncio import is_asyncio_available

from crawler.extensions.interrupt import RequestInterrupted, request_interrupted, run_interrupted

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class CuttableDownloadHandler(HTTP11DownloadHandler):
    """On :data:`~crawler.extensions.interrupt.run_interrupted`, cancels every transfer (the connection is aborted).

    Each download runs as a task of its own; cancelling it cancels the Twisted
    Deferred under it, which aborts the connection, as Scrapy's own download
    timeout does. The request then fails with
    :class:`~crawler.extensions.interrupt.RequestInterrupted`, as does any request
    that reaches the handler after the stop. With a reactor other than asyncio's
    (``TWISTED_REACTOR``), transfers are not cut: they end as they would.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._signals = crawler.signals
        self._transfers: dict[asyncio.Future[Response], Request] = {}
        self._reason: str | None = None
        crawler.signals.connect(self.cut, signal=run_interrupted)

    def cut(self, reason: str, **_: Any) -> None:
        self._reason = reason
        for transfer, request in list(self._transfers.items()):
            if transfer.cancel():
                self._signals.send_catch_log(signal=request_interrupted, request=request)

    async def download_request(self, request: Request) -> Response:
        if self._reason is not None:
            self._signals.send_catch_log(signal=request_interrupted, request=request)
            raise RequestInterrupted(f"the run was interrupted ({self._reason})")
        if not is_asyncio_available():
            return await super().download_request(request)
        transfer = asyncio.ensure_future(super().download_request(request))
        self._transfers[transfer] = request
        try:
            return await transfer
        except asyncio.CancelledError:
            if self._reason is not None and transfer.cancelled():
                raise RequestInterrupted(f"cut: the run was interrupted ({self._reason})") from None
            raise
        finally:
            del self._transfers[transfer]
