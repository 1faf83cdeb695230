"""Scrapy settings of the citearchive project; every custom setting is prefixed ARCHIVE_."""

from __future__ import annotations

from scrapy.settings import default_settings as scrapy_defaults

from archive import software_version
from crawler.offline import use_bundled_suffix_list

use_bundled_suffix_list()

BOT_NAME = "citearchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# A clear User-Agent that names the tool and where to read about it.
USER_AGENT = f"citearchive/{software_version()} (+https://github.com/citearchive/citearchive; archiving cited sources)"

# Scrapy 2.19 also advertises br and zstd; warcio and pywb cannot decode zstd,
# and pywb's brotlipy shadows the Brotli module Scrapy decodes br with.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

# Politeness: one connection per host and a short pause between its requests
# (--delay); many hosts are fetched in parallel. One large body per host at a
# time also keeps memory near one size cap per host.
ROBOTSTXT_OBEY = False  # robots.txt is read by crawler.middlewares.robots instead (ARCHIVE_ROBOTS)
ROBOTSTXT_USER_AGENT = "citearchive"  # the product token robots.txt groups name (RFC 9309 §2.2.1)
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Scrapy 2.19 enforces CONCURRENT_REQUESTS_PER_DOMAIN only with a delay above 0:
# with 0, Downloader._process_queue starts every queued request of a host at once
# (the DelayFloor extension keeps ARCHIVE_MIN_DELAY).
DOWNLOAD_DELAY = 0.25
# --delay is the least gap between two requests to a host, not an average (Scrapy: ±50%).
DOWNLOAD_DELAY_JITTER = 0.0
# AutoThrottle (off; --autothrottle) lengthens a host's delay to its response time, never
# below DOWNLOAD_DELAY: for hosts that slow down under the requisites of many pages.
AUTOTHROTTLE_ENABLED = False
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Items handled in parallel per response. Scrapy 2.19 starts CONCURRENT_ITEMS asyncio
# tasks for every response's callback output, however little it yields; a callback
# here yields one item and at most a few dozen requests. 100 (Scrapy's default) cost
# 12% of a 2,000-page run's reactor time (docs/performance.md).
CONCURRENT_ITEMS = 8
# Pending requests past ARCHIVE_QUEUE_MEMORY wait on disk (a temporary directory per process,
# under ARCHIVE_QUEUE_DIR when set): a post or feed with 20,000 citations would otherwise hold
# 20,000 requests in memory.
SCHEDULER = "crawler.scheduler.SpillingScheduler"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
ARCHIVE_QUEUE_DIR = ""
ARCHIVE_QUEUE_MEMORY = 2000  # requests kept in memory before the rest spill to disk (about 2.5 KB each)

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
# A body cut short is kept, flagged "dataloss", and archived with WARC-Truncated.
DOWNLOAD_FAIL_ON_DATALOSS = False
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A citation that failed every attempt is an outcome (in the manifest and the summary), not an
# error of the run: Scrapy's "Gave up retrying" line is a warning, kept in the log file.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"

# No listening consoles in an unattended archiver.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
# No per-item "Scraped from" record unless LOG_LEVEL is DEBUG (-v).
LOG_FORMATTER = "crawler.logformatter.QuietItemsLogFormatter"

# Only http(s) is ever fetched: no file://, s3://, ftp:// or data: handlers. Scrapy's HTTP/1.1
# handler, whose transfers a stop (SIGINT, SIGTERM: crawler/extensions/interrupt.py) cuts.
DOWNLOAD_HANDLERS = {
    "http": "crawler.handlers.cuttable.CuttableDownloadHandler",
    "https": "crawler.handlers.cuttable.CuttableDownloadHandler",
    "file": None,
    "s3": None,
    "ftp": None,
    "data": None,
}

# The SSRF guard lives in the resolver every connection goes through.
TWISTED_DNS_RESOLVER = "crawler.ssrf.GuardedResolver"

DOWNLOADER_MIDDLEWARES = {
    # Refuses non-http(s) schemes and literal forbidden addresses before any
    # connection, and turns the resolver's refusals into "blocked" outcomes.
    # Above RetryMiddleware (550), so a refused lookup is not retried.
    "crawler.middlewares.addressguard.AddressGuardMiddleware": 560,
    # After the address guard: fetches each origin's robots.txt once (through the
    # whole downloader), records its verdict, blocks per ARCHIVE_ROBOTS.
    "crawler.middlewares.robots.RobotsMiddleware": 570,
    # Above RetryMiddleware (550), so it reads a 429/503's Retry-After first; the
    # host's next requests, the retry among them, wait that long (capped).
    "crawler.middlewares.retryafter.RetryAfterMiddleware": 580,
    # Same place and job as Scrapy's; a corrupt body becomes a reported failure.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.decoding.DecodingMiddleware": 590,
    # Above HttpCompression (590), Redirect (600) and HttpCache (900): sees the
    # raw, still content-encoded body of every redirect hop and retry.
    "crawler.middlewares.capture.CaptureMiddleware": 950,
}

EXTENSIONS = {
    "crawler.extensions.warcsink.WarcSink": 100,
    # Scrapy 2.19 enforces CONCURRENT_REQUESTS_PER_DOMAIN only with a delay above 0.
    "crawler.extensions.delayfloor.DelayFloor": 150,
    "crawler.extensions.progress.Progress": 500,
    # Without it, a crawl whose start() ends with items (no requests left) idles 5 s before closing.
    "crawler.extensions.idlecheck.IdleCheck": 600,
    # SIGINT/SIGTERM (through the CLI, crawler/stopsignals.py): cut requests, close within moments.
    "crawler.extensions.interrupt.Interrupt": 700,
}
# Scrapy's own extensions but the two consoles, which are off (below) yet were imported to be
# told so: the remote control's module loads aiohttp, 0.1 s of every run's start. (Naming them
# None in EXTENSIONS does not help: Scrapy imports the keys it is given to normalise them.)
_consoles = ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl")
EXTENSIONS_BASE = {name: order for name, order in scrapy_defaults.EXTENSIONS_BASE.items() if name not in _consoles}

SPIDER_MIDDLEWARES = {
    # After a citation answers 200, fetches a random sibling path once per
    # directory: the evidence archive.rot needs to recognise soft-404s.
    "crawler.spidermiddlewares.probe.SoftNotFoundProbe": 700,
}

ITEM_PIPELINES = {
    "crawler.pipelines.manifest.ManifestPipeline": 800,
}

# --- citearchive settings (defaults) ---------------------------------------
ARCHIVE_OUT = "data"  # root of the pywb-style collections tree
ARCHIVE_COLLECTION = "citations"
ARCHIVE_RUN_ID = ""  # set per run by the CLI; generated when empty
ARCHIVE_RESUME = False  # complete ARCHIVE_RUN_ID's journal instead of starting afresh
ARCHIVE_RUN_STARTED = ""  # a resumed run's original start time (ISO 8601)
ARCHIVE_ALLOW_PRIVATE = False  # lift the SSRF address check (tests, demo)
ARCHIVE_TRUSTED_HOSTS: list[str] = []  # names the address check lets through (proxies, mirrors)
ARCHIVE_RESOLVE: list[str] = []  # "HOST:ADDRESS[,ADDRESS]" answers, like curl's --resolve
ARCHIVE_DNS_SERVERS: list[str] = []  # "HOST[:PORT]" nameservers instead of the system resolver
ARCHIVE_WARC_MAX_SIZE = 1_000_000_000
ARCHIVE_WARC_PREFIX = "citearchive"
ARCHIVE_WARC_FSYNC = True
ARCHIVE_INCLUDE_INTERNAL = False
ARCHIVE_SOURCES: list[str] = []  # post URLs or local files, set by the CLI
ARCHIVE_BASE_URL = ""  # base for relative links in local files
# Rules files (TOML, crawler/rules.py): where the article is, what to drop, include or exclude, citations
# to add; applied after the collection's own OUT/collections/NAME/rules.toml (--rules).
ARCHIVE_RULES: list[str] = []
ARCHIVE_SINCE = ""  # feeds: only entries published on or after this date (YYYY-MM-DD or ISO 8601)
ARCHIVE_PROGRESS = False  # a one-line progress display (the CLI turns it on for a TTY)
ARCHIVE_REQUISITES = True  # archive what each cited HTML page needs to render (--no-requisites)
ARCHIVE_REQUISITES_DEPTH = 6  # nesting levels: page → a.css → b.css (@import) → font, ...
ARCHIVE_REQUISITES_MAX_PER_PAGE = 500  # requisites fetched per document; the rest are reported skipped
ARCHIVE_DEDUP = True  # an unchanged payload (same digest and status) becomes a revisit record
ARCHIVE_SOFT404_PROBE = True  # probe a random sibling of each 200 page (soft-404 evidence)
ARCHIVE_LOCK_HELD = False  # the CLI sets it: it holds the collection lock for the whole run
ARCHIVE_LOCK_WAIT = 3600.0  # seconds a crawl waits for the collection lock (scrapyd jobs queue)
# Distributed workers (`citearchive worker`; scrapy-redis settings are set by that command only).
ARCHIVE_REDIS_URL = ""  # the run's Redis, redis://HOST:PORT/DB; empty: not a worker
ARCHIVE_WORKER_ID = ""  # in the worker's WARC names and journal name
ARCHIVE_DISTRIBUTED_RUN_ID = ""  # the run the worker serves (its Redis keys)
ARCHIVE_WORKER_HEARTBEAT = 5.0  # seconds between liveness beats; dead after three missed
ARCHIVE_TASK_BATCH = 500  # tasks a worker moves from the task list into the shared queue at once
# Multi-process mode (`citearchive archive --processes N`, crawler/processes.py): each crawl process
# requests one shard of the citations; the parent merges their journals and WARCs (crawler/shards.py).
ARCHIVE_SHARD = ""  # "I/N": request only the citations of shard I of N (shard 0 also archives the posts); "": all
ARCHIVE_SHARD_BY = "host"  # what a citation's shard is computed from: host (per-host limits hold) | url
ARCHIVE_SHARD_STAGING = ""  # the process's own output root for its WARCs (ShardWarcSink)
# Politeness (issue 7H).
ARCHIVE_ROBOTS = "named"  # robots.txt policy (--robots): named | obey | record | ignore
ARCHIVE_MIN_DELAY = 0.001  # least per-host delay (seconds), even with --delay 0: keeps one connection per host
ARCHIVE_RETRY_AFTER_MAX = 30.0  # longest Retry-After honoured, seconds (--retry-after-max); 0: not honoured
# Browser mode (crawler/render, docs/render.md): after the crawl, cited HTML pages are rendered in
# headless Chromium behind a recording proxy; a full-page screenshot goes into the WARC too.
ARCHIVE_RENDER = False  # render every cited HTML page (--render)
ARCHIVE_RENDER_DOMAINS: list[str] = []  # or only those of these domains and their subdomains (--render-domain)
ARCHIVE_RENDER_PAGES = 2  # pages open at once in the one browser
ARCHIVE_RENDER_TIMEOUT = 60.0  # seconds per page: load, settle, screenshot
ARCHIVE_RENDER_CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never a downloaded browser
