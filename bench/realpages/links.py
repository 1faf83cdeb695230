"""List every external link of a saved page, in document order, for a person writing its truth file.

This is the labeller's worksheet, not an extractor: it shows *all* external links (``a[href]``,
``blockquote/q[cite]``) with where they sit (the ancestors' tags, ids and classes) and the text
around them, so the reader can decide which belong to the post's main content. It never calls
citearchive's extraction, so the truth is not derived from what is being measured.

    python bench/realpages/links.py PAGE.html[.gz] --url https://site.example/post/
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import tldextract
from w3lib.encoding import html_to_unicode

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or host


def where(el: lxml.html.HtmlElement, depth: int = 8) -> str:
    steps = []
    node = el.getparent()
    while node is not None and len(steps) < depth:
        label = str(node.tag)
        if node.get("id"):
            label += "#" + node.get("id")
        classes = (node.get("class") or "").split()
        if classes:
            label += "." + ".".join(classes[:3])
        steps.append(label)
        node = node.getparent()
    return " < ".join(steps)


def around(el: lxml.html.HtmlElement, width: int = 90) -> str:
    block = el
    while block.getparent() is not None and len(" ".join(block.text_content().split())) < width:
        block = block.getparent()
    return " ".join(block.text_content().split())[: width * 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", type=Path)
    parser.add_argument("--url", required=True, help="the page's own URL (its canonical URL)")
    args = parser.parse_args(argv)
    parser_html = lxml.html.HTMLParser(huge_tree=True)
    # Decoded as a browser would (BOM, header, meta, UTF-8 if valid, else by bytes and TLD).
    _, text = html_to_unicode(None, read_page(args.page), url=args.url)
    root = lxml.html.document_fromstring(text, parser=parser_html)
    own = site(args.url)
    n = 0
    for el in root.iter("a", "blockquote", "q"):
        raw = el.get("href") if el.tag == "a" else el.get("cite")
        if not raw:
            continue
        url = urljoin(args.url, raw.strip())
        if urlsplit(url).scheme not in ("http", "https") or site(url) == own:
            continue
        n += 1
        text = " ".join(el.text_content().split())[:80]
        print(f"[{n}] {url}\n     text: {text!r}\n     in:   {where(el)}\n     near: {around(el)}")
    print(f"{n} external link(s); page site {own}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
