"""The Scrapy baselines: fetch a URL list and discard bodies, parse each page with lxml, or archive with scrapy-webarchive.

Run by bench/run.py (``python bench/baseline.py MODE URLS OUTDIR``), in the main venv for ``plain`` and
``lxml`` and in bench/.venvs/webarchive for ``webarchive`` (its pins differ from citearchive's).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pinned import scrapy_settings  # noqa: E402  (bench/pinned.py, the pinned settings)


class ListSpider(scrapy.Spider):
    name = "bench"

    def __init__(self, urls: list[str], mode: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = urls
        self.mode = mode
        self.links = 0

    async def start(self) -> Any:
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def start_requests(self) -> Any:  # Scrapy < 2.13 (the scrapy-webarchive venv)
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response: Any) -> None:
        if self.mode == "lxml":
            import lxml.html

            # What requisite discovery needs at least: the tree, and every src/href in it.
            doc = lxml.html.document_fromstring(response.text, base_url=response.url)
            self.links += len(doc.xpath("//@src | //@href | //@srcset"))
        # Bodies are discarded: nothing is yielded or kept.


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["plain", "plain-items8", "lxml", "webarchive"])
    parser.add_argument("urls", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    urls = args.urls.read_text().split()
    settings = scrapy_settings()
    if args.mode == "plain-items8":
        # citearchive's own CONCURRENT_ITEMS (crawler/settings.py), for a like-for-like reading of that tuning.
        settings["CONCURRENT_ITEMS"] = 8
    if args.mode == "webarchive":
        args.out.mkdir(parents=True, exist_ok=True)
        settings["EXTENSIONS"] = {"scrapy_webarchive.extensions.WaczExporter": 543}
        settings["SW_EXPORT_URI"] = str(args.out.resolve()) + "/"
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ListSpider)
    process.crawl(crawler, urls=urls, mode=args.mode)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    count = stats.get("response_received_count", 0)
    print(json.dumps({"responses": count, "status_200": stats.get("downloader/response_status_count/200", 0)}))


if __name__ == "__main__":
    main()
