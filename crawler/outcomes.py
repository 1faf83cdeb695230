"""Turn a response or a download failure into a terminal capture outcome with a readable reason."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.items import CaptureOutcome
from crawler.middlewares.addressguard import BlockedRequest
from crawler.middlewares.capture import HOPS_META_KEY

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure


def status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def outcome_from_response(response: Response) -> CaptureOutcome:
    """Archived for 1xx-3xx, failed (with its response still stored) for 4xx and 5xx."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    mime = content_type.split(";", 1)[0].strip().lower() or None
    failed = response.status >= 400
    return CaptureOutcome(
        status="failed" if failed else "archived",
        http_status=response.status,
        final_url=response.url,
        reason=f"the server answered {status_text(response.status)}" if failed else None,
        mime=mime,
        hops=list(response.meta.get(HOPS_META_KEY, [])),
    )


def describe_failure(failure: Failure) -> str:
    """One line saying why a fetch produced no usable response."""
    exc = failure.value
    detail = str(exc).rstrip(". ")
    if isinstance(exc, (CannotResolveHostError, net_error.DNSLookupError)):
        return f"DNS lookup failed: {detail}"
    if isinstance(exc, (DownloadConnectionRefusedError, net_error.ConnectionRefusedError)):
        return "connection refused"
    if isinstance(exc, (DownloadTimeoutError, net_error.TimeoutError, net_error.TCPTimedOutError)):
        return f"timed out: {detail}"
    if isinstance(exc, DownloadCancelledError) and "max size" in detail:
        return f"too large: {detail} (raise --max-size to archive it)"
    if isinstance(exc, ResponseDataLossError):
        return f"the response was cut short: {detail}"
    if isinstance(exc, (DownloadFailedError, ResponseNeverReceived, ResponseFailed, net_error.ConnectionLost)):
        return f"the connection failed: {detail}"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def outcome_from_failure(failure: Failure) -> CaptureOutcome:
    request = failure.request  # type: ignore[attr-defined]
    hops = list(request.meta.get(HOPS_META_KEY, []))
    if isinstance(failure.value, BlockedRequest):
        return CaptureOutcome(status="blocked", reason=str(failure.value), final_url=request.url, hops=hops)
    reason = describe_failure(failure)
    if isinstance(failure.value, IgnoreRequest) and not str(failure.value):
        reason = "the request was dropped by the crawler"
    return CaptureOutcome(status="failed", reason=reason, final_url=request.url, hops=hops)
