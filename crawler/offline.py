"""Keep tldextract on its bundled public-suffix snapshot: no fetch at run time."""

from __future__ import annotations

import os

import tldextract


def offline_extractor(include_private: bool = False) -> tldextract.TLDExtract:
    """An extractor that reads only the snapshot shipped inside tldextract."""
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=include_private
    )


def use_bundled_suffix_list() -> None:
    """Stop every TLDExtract in the process from downloading the suffix list.

    Scrapy's CookiesMiddleware builds its extractor at import time with the
    default URLs, so it would fetch the list from the internet on first use.
    The environment variable covers extractors built later; the module global
    is replaced for the one already built.
    """
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    from scrapy.downloadermiddlewares import cookies

    cookies._split_domain = offline_extractor(include_private=True)
