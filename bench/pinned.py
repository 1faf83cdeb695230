"""The settings every benchmarked tool runs with, pinned here and printed with the table."""

from __future__ import annotations

from typing import Any

#: Requests in flight, for every tool (wget has no concurrency: it is one sequential fetcher).
CONCURRENCY = 16

#: Shared by citearchive and the plain Scrapy baselines. The per-domain limit equals the global
#: one and there is no delay: on a one-host benchmark citearchive's politeness defaults
#: (1 per host, 0.25 s apart) would measure the delay, not the tool. (With DOWNLOAD_DELAY = 0,
#: Scrapy 2.19 does not enforce the per-domain limit anyway; here it is equal to the global one.)
SCRAPY: dict[str, Any] = {
    "CONCURRENT_REQUESTS": CONCURRENCY,
    "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
    "DOWNLOAD_DELAY": 0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "ROBOTSTXT_OBEY": False,
    "COOKIES_ENABLED": True,
    "RETRY_TIMES": 2,
    "DOWNLOAD_TIMEOUT": 30,
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": False,
    # What citearchive sends, so every tool gets the same pre-compressed gzip bodies.
    "DEFAULT_REQUEST_HEADERS": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "en",
        "Accept-Encoding": "gzip, deflate",
    },
}

#: citearchive only: the soft-404 probe (one extra request per directory) and dedup against
#: earlier runs (the collection is fresh each round) are turned off; requisites are on or off
#: per row (--no-requisites). WARC fsync per record pair and the journal stay at their defaults.
CITEARCHIVE: dict[str, Any] = {
    "ARCHIVE_SOFT404_PROBE": False,
    "ARCHIVE_DEDUP": False,
}

#: wget: one process, the same Accept-Encoding, WARC gzip-compressed with digests (its defaults).
WGET_ARGS = [
    "--quiet",
    "--tries=3",
    "--timeout=30",
    "--header=Accept-Encoding: gzip, deflate",
    "--no-warc-keep-log",
]


def scrapy_settings() -> dict[str, Any]:
    return {**SCRAPY, "DEFAULT_REQUEST_HEADERS": dict(SCRAPY["DEFAULT_REQUEST_HEADERS"])}


def citearchive_args(settings: dict[str, Any] | None = None) -> list[str]:
    """``-s NAME=VALUE`` options for `citearchive archive` (the Accept headers are its own already)."""
    merged = {**SCRAPY, **CITEARCHIVE, **(settings or {})}
    merged.pop("DEFAULT_REQUEST_HEADERS")
    args: list[str] = []
    for name, value in merged.items():
        args += ["-s", f"{name}={value}"]
    return args


def describe() -> list[str]:
    lines = [f"concurrency {CONCURRENCY} for every Scrapy-based tool; wget: one sequential process"]
    lines.append("Scrapy (citearchive and baselines): " + ", ".join(f"{k}={v}" for k, v in SCRAPY.items() if k != "DEFAULT_REQUEST_HEADERS"))
    lines.append("  Accept-Encoding: gzip, deflate (all tools)")
    lines.append("citearchive only: " + ", ".join(f"{k}={v}" for k, v in CITEARCHIVE.items()) + ", ARCHIVE_WARC_FSYNC=True (default), --allow-private --include-internal")
    lines.append("wget " + " ".join(WGET_ARGS) + " --warc-file=... -O /dev/null -i urls.txt")
    return lines
