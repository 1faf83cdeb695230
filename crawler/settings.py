"""Scrapy settings of the citearchive project; every custom setting is prefixed ARCHIVE_."""

from __future__ import annotations

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

# Politeness: a citation crawl touches few pages per host.
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 50 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# No listening consoles in an unattended archiver.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# Only http(s) is ever fetched: no file://, s3://, ftp:// or data: handlers.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

# The SSRF guard lives in the resolver every connection goes through.
TWISTED_DNS_RESOLVER = "crawler.ssrf.GuardedResolver"

DOWNLOADER_MIDDLEWARES = {
    # Refuses non-http(s) schemes and literal forbidden addresses before any
    # connection, and turns the resolver's refusals into "blocked" outcomes.
    # Above RetryMiddleware (550), so a refused lookup is not retried.
    "crawler.middlewares.addressguard.AddressGuardMiddleware": 560,
    # Above HttpCompression (590), Redirect (600) and HttpCache (900): sees the
    # raw, still content-encoded body of every redirect hop and retry.
    "crawler.middlewares.capture.CaptureMiddleware": 950,
}

EXTENSIONS = {
    "crawler.extensions.warcsink.WarcSink": 100,
    "crawler.extensions.progress.Progress": 500,
}

ITEM_PIPELINES = {
    "crawler.pipelines.manifest.ManifestPipeline": 800,
}

# --- citearchive settings (defaults) ---------------------------------------
ARCHIVE_OUT = "data"  # root of the pywb-style collections tree
ARCHIVE_COLLECTION = "citations"
ARCHIVE_RUN_ID = ""  # set per run by the CLI; generated when empty
ARCHIVE_ALLOW_PRIVATE = False  # lift the SSRF address check (tests, demo)
ARCHIVE_WARC_MAX_SIZE = 1_000_000_000
ARCHIVE_WARC_PREFIX = "citearchive"
ARCHIVE_WARC_FSYNC = True
ARCHIVE_INCLUDE_INTERNAL = False
ARCHIVE_SOURCES: list[str] = []  # post URLs or local files, set by the CLI
ARCHIVE_BASE_URL = ""  # base for relative links in local files
ARCHIVE_PROGRESS = False  # a one-line progress display (the CLI turns it on for a TTY)
