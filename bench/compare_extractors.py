"""Score main-content extractors on the citation corpus: citearchive's rules, trafilatura, readability."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.citations import PostDocument, decode_html, extract_post  # noqa: E402
from crawler.markdown_post import parse_markdown_post  # noqa: E402
from tests.crawler.test_corpus import SETS, Score, evaluate, structural  # noqa: E402


def _html(path: Path) -> str:
    if path.suffix == ".md":
        return parse_markdown_post(path.read_text(encoding="utf-8")).html
    return decode_html(path.read_bytes())


def with_trafilatura(path: Path, url: str) -> PostDocument:
    """trafilatura picks the main content (links kept); citearchive's link rules run on that."""
    import trafilatura

    body = trafilatura.extract(
        _html(path), url=url, output_format="html", include_links=True,
        include_comments=False, include_images=True, include_tables=True,
    )  # fmt: skip
    return extract_post(body or "", url)


def with_readability(path: Path, url: str) -> PostDocument:
    """readability-lxml picks the main content; citearchive's link rules run on that."""
    from readability import Document

    return extract_post(Document(_html(path), url=url).summary(html_partial=False), url)


def main() -> int:
    extractors = {
        "citearchive structural rules": structural,
        "trafilatura 2 + link rules": with_trafilatura,
        "readability-lxml + link rules": with_readability,
    }
    for name, extractor in extractors.items():
        overall = Score()
        started = time.perf_counter()
        lines = []
        for which in SETS:
            score = evaluate(extractor, which)
            overall.add(score)
            lines.append(score.line(f"  {which}"))
        elapsed = time.perf_counter() - started
        print(f"{name}  ({elapsed * 1000:.0f} ms for the corpus)")
        print("\n".join(lines))
        print(overall.line("  overall"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
