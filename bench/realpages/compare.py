"""Score citearchive's citation extraction on the real-page corpus, next to trafilatura and readability-lxml.

    ./scripts/compare-extractors [--pages] [--part dev|heldout] [--only NAME]

Each extractor is measured the same way: the distinct external URLs it would archive from a page
(w3lib-canonicalised citation keys), against the page's truth file, micro-averaged over the pages
of each part. trafilatura and readability-lxml choose the main content; citearchive's link rules
(footnotes, ``cite``, bare URLs, internal links left out) then run on what they chose, as
bench/compare_extractors.py does for the project's own corpus. They need the ``bench`` extra,
which ``./scripts/compare-extractors`` installs from ``requirements/bench.txt`` into ``.venv-bench``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.realpages.corpus import PARTS, Page, Score, pages  # noqa: E402
from crawler.citations import decode_html, extract_post  # noqa: E402
from crawler.urls import citation_key  # noqa: E402


def _urls(html: str, url: str) -> list[str]:
    return [c.url for c in extract_post(html, url).citations if not c.skip_reason]


def citearchive(page: Page) -> list[str]:
    return _urls(decode_html(page.html_bytes(), url=page.url), page.url)


def trafilatura_links(page: Page) -> list[str]:
    import trafilatura

    body = trafilatura.extract(
        decode_html(page.html_bytes(), url=page.url), url=page.url, output_format="html",
        include_links=True, include_comments=False, include_images=True, include_tables=True,
    )  # fmt: skip
    return _urls(body or "", page.url)


def readability_links(page: Page) -> list[str]:
    from readability import Document

    html = decode_html(page.html_bytes(), url=page.url)
    return _urls(Document(html, url=page.url).summary(html_partial=False), page.url)


EXTRACTORS: dict[str, Callable[[Page], list[str]]] = {
    "citearchive": citearchive,
    "trafilatura + link rules": trafilatura_links,
    "readability-lxml + link rules": readability_links,
}


def _key(url: str) -> str:
    return citation_key(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=PARTS, action="append", help="only this part (repeatable; default both)")
    parser.add_argument("--only", choices=list(EXTRACTORS), action="append", help="only this extractor")
    parser.add_argument("--pages", action="store_true", help="print each page's figures and its misses (dev only)")
    args = parser.parse_args(argv)
    parts = args.part or list(PARTS)
    for part in parts:
        count = sum(1 for _ in pages(part))
        print(f"{part}: {count} pages")
        for name in args.only or EXTRACTORS:
            extract = EXTRACTORS[name]
            started = time.perf_counter()
            try:
                score = Score()
                for page in pages(part):
                    predicted = {_key(u) for u in extract(page)}
                    expected = {_key(c["url"]) for c in page.truth}
                    score.add(page.name, predicted, expected)
                    if args.pages and part == "dev" and predicted != expected:
                        print(f"    {page.name}: +{len(predicted - expected)} -{len(expected - predicted)}")
                        for url in sorted(predicted - expected)[:8]:
                            print(f"      extra   {url}")
                        for url in sorted(expected - predicted)[:8]:
                            print(f"      missing {url}")
            except ImportError as exc:
                print(f"  {name}: not installed ({exc.name}); see this script's docstring")
                continue
            elapsed = time.perf_counter() - started
            print(score.line(f"  {name:<30}") + f"  [{elapsed:.1f} s]")
            if score.lost_posts and part == "dev":  # held-out pages are only ever counted, never named
                print(f"    every citation lost: {', '.join(score.lost_posts[:10])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
