"""The render phase: after the crawl, cited pages are rendered in Chromium and the manifest recompiled."""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archive.collection import Collection
from archive.journal import Journal, read_journal
from archive.manifestread import manifest_started
from archive.manifeststream import write_manifest_from_journals
from archive.sideindex import index_collection, side_index_dir
from archive.writer import ArchiveWriter
from crawler.render.browser import browser_env, chromium_args, chromium_binary, reap
from crawler.render.proxy import REFUSED_HEADER, PageGate, ProxyPolicy, RecordingProxy
from crawler.render.tlsca import InterceptionCA
from crawler.stopsignals import installed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy.settings import BaseSettings

    from archive.capture import Capture, RecordLocation

logger = logging.getLogger(__name__)

__all__ = ["RenderConfig", "RenderJob", "run_render_phase", "select_jobs", "wants_render"]

SCREENSHOT_SCHEME = "urn:screenshot:"  # + the page URL: the screenshot's resource record
DOM_SCHEME = "urn:dom:"  # + the page URL: the DOM serialised after rendering
NOT_RENDERED = "not attempted: the run ended before this page was rendered"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SETTLE_MS = 5_000  # after "load", how long to wait for the network to go idle


@dataclass(frozen=True, slots=True)
class RenderJob:
    key: str  # the citation key, as in the journal
    url: str


@dataclass(slots=True)
class RenderConfig:
    """What the render phase needs, read from the crawl's settings."""

    collection: Collection
    run_id: str
    policy: ProxyPolicy
    render_all: bool = False
    domains: list[str] = field(default_factory=list)
    max_pages: int = 2
    page_timeout: float = 60.0
    chromium: str = "/usr/bin/chromium"
    warc_prefix: str = "citearchive"
    warc_max_size: int = 1_000_000_000
    fsync: bool = True

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderConfig:
        return cls(
            collection=Collection(Path(settings.get("ARCHIVE_OUT")), settings.get("ARCHIVE_COLLECTION")),
            run_id=settings.get("ARCHIVE_RUN_ID"),
            policy=ProxyPolicy(
                allow_private=settings.getbool("ARCHIVE_ALLOW_PRIVATE"),
                max_size=settings.getint("DOWNLOAD_MAXSIZE"),
                timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
                verify_certificates=settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"),
            ),
            render_all=settings.getbool("ARCHIVE_RENDER"),
            domains=[d.lower().strip(".") for d in settings.getlist("ARCHIVE_RENDER_DOMAINS")],
            max_pages=max(1, settings.getint("ARCHIVE_RENDER_PAGES")),
            page_timeout=settings.getfloat("ARCHIVE_RENDER_TIMEOUT"),
            chromium=settings.get("ARCHIVE_RENDER_CHROMIUM"),
            warc_prefix=settings.get("ARCHIVE_WARC_PREFIX"),
            warc_max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE"),
            fsync=settings.getbool("ARCHIVE_WARC_FSYNC"),
        )

    @property
    def enabled(self) -> bool:
        return self.render_all or bool(self.domains)


def wants_render(url: str, render_all: bool, domains: Iterable[str]) -> bool:
    """``--render`` renders every cited page; ARCHIVE_RENDER_DOMAINS those of a domain or its subdomains."""
    if render_all:
        return True
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def select_jobs(entries: Iterable[dict[str, Any]], render_all: bool, domains: Iterable[str]) -> list[RenderJob]:
    """Citations whose capture is an archived HTML page (from the journal), once per key.

    A key the journal already has a render of (a resumed run rendered it before it
    was interrupted) is left out; one whose render was not attempted is not.
    """
    domains = list(domains)
    jobs: dict[str, RenderJob] = {}
    rendered: set[str] = set()
    for entry in entries:
        if entry.get("kind") == "render":
            if not str((entry.get("render") or {}).get("reason") or "").startswith("not attempted"):
                rendered.add(str(entry.get("key")))
            continue
        if entry.get("kind") != "capture":
            continue
        capture = entry.get("capture") or {}
        mime = str(capture.get("mime") or "").lower()
        url = str(entry.get("url") or "")
        if capture.get("status") != "archived" or not mime.startswith(_HTML_TYPES):
            continue
        if wants_render(url, render_all, domains):
            jobs.setdefault(str(entry.get("key")), RenderJob(str(entry.get("key")), url))
    return [job for job in jobs.values() if job.key not in rendered]


def _where(location: RecordLocation | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {
        "warc_file": location.warc_file,
        "offset": location.offset,
        "length": location.length,
        "record_id": location.record_id,
        "timestamp": location.timestamp,
    }


class _Session:
    """One render phase's writer, journal and proxy; every write goes through one thread, in order."""

    def __init__(self, config: RenderConfig, ca: InterceptionCA) -> None:
        self.config = config
        self.ca = ca
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-writer")
        self.writer = ArchiveWriter(
            config.collection.archive_dir,
            prefix=f"{config.warc_prefix}-render",
            max_file_size=config.warc_max_size,
            fsync=config.fsync,
            warcinfo={"render": "pages rendered in headless Chromium through citearchive's recording proxy"},
            side_dir=side_index_dir(config.collection.index_path),
        )
        self.journal = Journal(config.collection.journal_path(config.run_id), fsync=config.fsync)
        self.gate = PageGate()
        self.proxy = RecordingProxy(self.write_capture, config.policy, self.gate, ca)

    async def _off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def write_capture(self, capture: Capture) -> RecordLocation:
        location: RecordLocation = await self._off_loop(self.writer.write_capture, capture)
        return location

    async def write_resource(self, uri: str, mime: str, payload: bytes, concurrent_to: str | None) -> RecordLocation:
        def write() -> RecordLocation:
            return self.writer.write_resource(uri, mime, payload, concurrent_to=concurrent_to)

        location: RecordLocation = await self._off_loop(write)
        return location

    async def journal_render(self, job: RenderJob, render: dict[str, Any]) -> None:
        # After the records it names were flushed: the same single thread wrote them.
        await self._off_loop(self.journal.append, {"kind": "render", "key": job.key, "url": job.url, "render": render})

    def close(self) -> list[str]:
        """Close the WARC file and the journal; return the WARC files written."""
        self.executor.shutdown(wait=True)
        self.writer.close()
        self.journal.close()
        return list(self.writer.closed_files)


async def _render_page(session: _Session, context: Any, job: RenderJob) -> dict[str, Any]:
    """Load ``job.url``, wait for it to settle, store its screenshot and DOM; the manifest's ``render``."""
    from playwright.async_api import Error as PlaywrightError

    requested: list[str] = []
    failures: dict[str, str] = {}
    timeout_ms = session.config.page_timeout * 1000
    page = await context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failures.setdefault(request.url, request.failure or "failed"))
    render: dict[str, Any] = {"status": "failed", "reason": None, "http_status": None, "final_url": None}
    try:
        response = await page.goto(job.url, wait_until="load", timeout=timeout_ms)
        try:
            await page.wait_for_load_state("networkidle", timeout=min(_SETTLE_MS, timeout_ms))
        except PlaywrightError:
            logger.info("%(url)s kept the network busy; screenshot taken anyway", {"url": job.url})
        refused = await response.header_value(REFUSED_HEADER) if response is not None else None
        exchange = session.proxy.archived(response.url) if response is not None else None
        render["http_status"] = response.status if response is not None else None
        render["final_url"] = response.url if response is not None else None
        if refused is not None or exchange is None or exchange.location is None:
            render["reason"] = refused or session.proxy.refusal(job.url) or "the page itself was not recorded by the proxy"
        png = await page.screenshot(full_page=True, type="png", timeout=timeout_ms)
        dom = (await page.content()).encode("utf-8")
        page_record = exchange.location.record_id if exchange and exchange.location else None
        screenshot = await session.write_resource(SCREENSHOT_SCHEME + job.url, "image/png", png, page_record)
        dom_record = await session.write_resource(DOM_SCHEME + job.url, "text/html; charset=utf-8", dom, page_record)
        render.update(
            status="archived" if render["reason"] is None else "failed",
            page=_where(exchange.location if exchange else None),
            screenshot=_where(screenshot),
            dom=_where(dom_record),
        )
    except PlaywrightError as exc:
        render["reason"] = f"the browser could not render it: {str(exc).splitlines()[0]}"
        if (refusal := session.proxy.refusal(job.url)) is not None:  # e.g. an https tunnel the guard refused
            render["reason"] += f" ({refusal})"
    finally:
        await page.close()
    render["resources"] = _resources(session.proxy, job.url, requested, failures)
    return render


def _resources(proxy: RecordingProxy, page_url: str, requested: list[str], failures: dict[str, str]) -> dict[str, Any]:
    """What the page requested besides itself: archived (now or earlier this phase), or why not."""
    archived, failed = 0, []
    for url in dict.fromkeys(requested):
        if url == page_url or not url.startswith(("http:", "https:")):
            continue
        if proxy.archived(url) is not None:
            archived += 1
            continue
        reason = proxy.refusal(url)
        failed.append({"url": url, "reason": reason or failures.get(url) or "not recorded"})
    return {"archived": archived, "failed": failed}


async def _render_all(session: _Session, jobs: list[RenderJob], profile: Path, done: set[str]) -> None:
    """Render ``jobs`` in one browser, at most ``max_pages`` at a time; add each key journalled to ``done``.

    ``done`` is the caller's: when a stop cancels this, it still knows what was journalled.
    """
    from playwright.async_api import async_playwright

    config = session.config
    port = await session.proxy.start()
    limit = asyncio.Semaphore(config.max_pages)

    async def one(context: Any, job: RenderJob) -> None:
        async with limit:
            try:
                render = await asyncio.wait_for(_render_page(session, context, job), config.page_timeout + 10)
            except TimeoutError:
                render = {"status": "failed", "reason": f"not rendered within {config.page_timeout:g} s"}
            await session.journal_render(job, render)
            done.add(job.key)
            logger.info("Rendered %(url)s: %(status)s", {"url": job.url, "status": render["status"]})

    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                str(profile / "profile"),
                executable_path=chromium_binary(config.chromium),
                args=chromium_args(port, session.ca.spki),  # only our CA is trusted: see docs/render.md
                env=browser_env(profile),
                headless=True,
                viewport={"width": 1280, "height": 900},
                device_scale_factor=1,
                service_workers="block",  # every request of the page goes through the proxy
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
            )
            # Every request of a page, frame or worker is announced here before the proxy forwards it.
            context.on("request", lambda request: session.gate.expect(request.url))
            try:
                await asyncio.gather(*(one(context, job) for job in jobs))
            finally:
                await context.close()
    finally:
        await session.proxy.close()


def _run_cancellable(coroutine: Any) -> tuple[Any, bool]:
    """Run ``coroutine``; SIGINT or SIGTERM (through the process's StopSignals) cancels it. Returns (result, interrupted)."""
    interrupted = False

    async def main() -> Any:
        nonlocal interrupted
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def cancel() -> None:
            logger.warning("Interrupted: closing the browser")
            if task is not None:
                task.cancel()

        def stop(signum: int) -> None:  # in the signal handler: hand the cancel to the loop
            nonlocal interrupted
            interrupted = True
            loop.call_soon_threadsafe(cancel)

        with installed().stopping(stop):
            try:
                return await coroutine
            except asyncio.CancelledError:
                return None

    return asyncio.run(main()), interrupted


def run_render_phase(config: RenderConfig) -> bool:
    """Render the run's selected citations, then recompile its manifest and index the new WARCs.

    Runs after the crawl, in the CLI process (no reactor is running then);
    Chromium and playwright's driver are processes of their own, reaped by
    their unique profile directory whatever happens. Each rendered citation
    gets a ``render`` journal entry after its records are flushed, so a crash
    loses at most the page in flight. Returns False when interrupted.
    """
    collection = config.collection
    journal_path = collection.journal_path(config.run_id)
    jobs = select_jobs(read_journal(journal_path), config.render_all, config.domains)
    if not jobs:
        logger.info("No cited HTML page to render")
        return True
    try:
        import playwright.async_api  # noqa: F401 - checked before anything starts
    except ImportError:
        logger.error("Cannot render: playwright is not installed (pip install playwright; no browser download needed)")
        return True
    if not Path(config.chromium).exists():
        logger.error(
            "Cannot render: %(path)s is missing (install Debian's chromium package, e.g. ./scripts/system-packages)",
            {"path": config.chromium},
        )
        return True
    stop = installed()
    profile = Path(tempfile.mkdtemp(prefix=f"citearchive-render-{config.run_id}-"))
    # The run's own CA, for intercepting https: in the profile directory, removed with it.
    session = _Session(config, InterceptionCA.create(profile / "tls"))
    done: set[str] = set()
    interrupted = True
    try:
        if stop.signum is None:  # else stopped before the browser started: every page is not attempted
            logger.info("Rendering %(n)d page(s) in Chromium", {"n": len(jobs)})
            with stop.killing(functools.partial(reap, str(profile))):  # a second signal: no Chromium left behind
                _, interrupted = _run_cancellable(_render_all(session, jobs, profile, done))
            interrupted = interrupted and len(done) < len(jobs)  # a stop as the browser closed cut nothing
    finally:
        reap(str(profile))
        session.executor.shutdown(wait=True)  # the page in flight, if any, is written first
        for job in jobs:
            if job.key not in done:
                session.journal.append(
                    {"kind": "render", "key": job.key, "url": job.url, "render": {"status": "skipped", "reason": NOT_RENDERED}}
                )
        warc_files = session.close()
        shutil.rmtree(profile, ignore_errors=True)
        _recompile(config, warc_files)
    return not interrupted


def _recompile(config: RenderConfig, warc_files: list[str]) -> None:
    collection = config.collection
    if warc_files:
        index_collection(collection, warc_files)
    manifest_path = collection.manifest_path(config.run_id)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    # Streamed from the journal, as the crawl wrote it; the crawl's start is read from its manifest's head.
    write_manifest_from_journals(
        manifest_path,
        [collection.journal_path(config.run_id)],
        run_id=config.run_id,
        collection=collection.name,
        started=manifest_started(manifest_path) or now,
        finished=now,
    )
    logger.info("Rewrote manifest %(path)s with the rendered pages", {"path": manifest_path})
