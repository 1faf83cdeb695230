"""Turn a response or a download failure into a terminal capture outcome with a readable reason."""

from __future__ import annotations

import errno
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING

from scrapy.exceptions import (
    CannotResolveHostError,
    CloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.items import CaptureOutcome
from crawler.middlewares.addressguard import BlockedRequest, MalformedRequest
from crawler.middlewares.capture import HOPS_META_KEY
from crawler.middlewares.decoding import UndecodableBody
from crawler.middlewares.robots import ROBOTS_META_KEY

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def outcome_from_response(response: Response) -> CaptureOutcome:
    """Archived for 1xx-3xx, failed (its response still stored) for 4xx and up or a body cut short."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    outcome = CaptureOutcome(
        status="archived",
        http_status=response.status,
        final_url=response.url,
        mime=content_type.split(";", 1)[0].strip().lower() or None,
        hops=list(response.meta.get(HOPS_META_KEY, [])),
        robots=response.meta.get(ROBOTS_META_KEY),
    )
    if response.status >= 400:
        outcome.status = "failed"
        outcome.reason = f"the server answered {status_text(response.status)}"
    elif "dataloss" in response.flags:
        outcome.status = "failed"
        outcome.reason = (
            "the connection closed before the whole body arrived; the part received is stored with WARC-Truncated"
        )
    return outcome


def outcome_from_unhandled_status(response: Response) -> CaptureOutcome:
    """A response the spider was not handed: a redirect not followed, or a status with no page."""
    outcome = outcome_from_response(response)
    outcome.status = "failed"
    if response.status not in REDIRECT_STATUSES:
        outcome.reason = f"the server answered {status_text(response.status)}, which has no page to archive"
        return outcome
    location = (response.headers.get(b"Location") or b"").decode("latin-1")
    scheme = location.split(":", 1)[0].lower() if ":" in location.split("/", 1)[0] else ""
    if scheme and scheme not in ("http", "https"):
        outcome.status = "blocked"
        outcome.reason = f"redirects to a {scheme}: URL ({location[:80]}), and only http and https are fetched"
    else:
        outcome.reason = f"{status_text(response.status)} redirect was not followed (Location: {location[:80] or 'none'})"
    return outcome


def _cause_text(exc: BaseException | None) -> str:
    """The innermost useful message: Twisted wraps the real reasons in lists of Failures."""
    for candidate in (exc, exc.__cause__ if exc is not None else None):
        if isinstance(candidate, (ResponseFailed, ResponseNeverReceived)):
            texts = []
            for reason in candidate.reasons:
                value = reason.value
                name = type(value).__name__
                texts.append(f"{name}: {value}" if str(value) else name)
            return "; ".join(texts)
    return str(exc).rstrip(". ") if exc is not None else ""


def _said(what: str, detail: str) -> str:
    """``what: detail``, unless the detail says ``what`` already (Scrapy's CannotResolveHostError does)."""
    if not detail:
        return what
    if detail.lower().startswith(what.lower()):
        return what + detail[len(what) :]  # the reason starts as archive.rot expects, whatever the case
    return f"{what}: {detail}"


def describe_failure(failure: Failure) -> str:
    """One line saying why a fetch produced no usable response."""
    exc = failure.value
    detail = _cause_text(exc)
    if isinstance(exc, (CannotResolveHostError, net_error.DNSLookupError)):
        return _said("DNS lookup failed", detail)
    if isinstance(exc, (DownloadConnectionRefusedError, net_error.ConnectionRefusedError)):
        return "connection refused"
    if isinstance(exc, (DownloadTimeoutError, net_error.TimeoutError, net_error.TCPTimedOutError)):
        return _said("timed out", detail)
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download whose body grows past DOWNLOAD_MAXSIZE.
        return f"too large: {detail or 'the body grew past the size cap'} (raise --max-size to archive it)"
    if isinstance(exc, UndecodableBody):
        return f"{detail}; the raw body is stored"
    if isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in detail and "decompression" in detail:
        return "too large once decompressed (a compression bomb?); the raw body is stored"
    if isinstance(exc, IgnoreRequest) and "max redirections" in detail:
        return "too many redirects (a loop, or a chain longer than the limit)"
    if isinstance(exc, ResponseDataLossError):
        return f"the response was cut short: {detail}".rstrip(": ")
    if isinstance(exc, (DownloadFailedError, ResponseNeverReceived, ResponseFailed, net_error.ConnectionLost)):
        return _said("the connection failed", detail)
    if isinstance(exc, ValueError):
        return f"invalid URL or response: {detail}"
    if isinstance(exc, IgnoreRequest) and not detail:
        return "the request was dropped by the crawler"
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def stop_if_disk_full(failure: Failure) -> None:
    """A full disk ends the crawl (CloseSpider): what is archived stays, a rerun resumes."""
    exc: BaseException | None = failure.value
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            logger.error(
                "The disk is full (%(error)s): stopping. What was archived is kept; free some space and "
                "run the same command again to resume.",
                {"error": exc},
            )
            raise CloseSpider("disk_full")
        exc = exc.__cause__


def outcome_from_failure(failure: Failure) -> CaptureOutcome:
    request = failure.request  # type: ignore[attr-defined]
    if isinstance(failure.value, HttpError):
        return outcome_from_unhandled_status(failure.value.response)
    hops = list(request.meta.get(HOPS_META_KEY, []))
    robots = request.meta.get(ROBOTS_META_KEY)
    if isinstance(failure.value, BlockedRequest):  # the SSRF guard, or robots.txt (RobotsDisallowed)
        return CaptureOutcome(
            status="blocked", reason=str(failure.value), final_url=request.url, hops=hops, robots=robots
        )
    if isinstance(failure.value, MalformedRequest):  # where a redirect led
        reason = f"redirected to a {failure.value}" if hops else str(failure.value)
        return CaptureOutcome(status="failed", reason=reason, final_url=request.url, hops=hops, robots=robots)
    return CaptureOutcome(
        status="failed", reason=describe_failure(failure), final_url=request.url, hops=hops, robots=robots
    )
