"""Shards of `archive --processes N`: a stable owner per citation, by host or by URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.citations import extract_post
from crawler.middlewares.capture import NO_CAPTURE_META_KEY
from crawler.shards import Shard, shard_of
from crawler.spiders.citations import CitationsSpider

URLS = [f"https://host{i % 7}.example/page/{i}?q={i}" for i in range(200)]


def test_shard_numbers_are_stable_across_processes() -> None:
    # SHA-1, not hash(): PYTHONHASHSEED differs between processes, these never do.
    assert [shard_of("example.org", 7), shard_of("news.example.com", 3), shard_of("", 2)] == [6, 1, 1]


@pytest.mark.parametrize("by", ["host", "url"])
def test_every_citation_has_exactly_one_owner(by: str) -> None:
    shards = [Shard(index, 3, by) for index in range(3)]
    owners = [[shard.index for shard in shards if shard.owns(url, url)] for url in URLS]
    assert all(len(found) == 1 for found in owners)
    assert {found[0] for found in owners} == {0, 1, 2}


def test_by_host_keeps_a_hosts_urls_together() -> None:
    shard = Shard(0, 2, "host")
    urls = ["http://Blog.Example/a", "http://blog.example:8080/b?x=1", "https://blog.example./c#f"]
    assert len({shard.owns(url, url) for url in urls}) == 1


def test_by_url_spreads_one_host() -> None:
    shard = Shard(1, 2, "url")
    owned = [shard.owns(url, url) for url in (f"http://one.example/{i}" for i in range(50))]
    assert 0 < sum(owned) < 50


@pytest.mark.parametrize("value", ["2/2", "-1/2", "1", "a/b", "0/0", ""])
def test_bad_shard_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ARCHIVE_SHARD"):
        Shard.parse(value)


def test_shard_setting_and_names() -> None:
    assert Shard.from_settings(Settings({"ARCHIVE_SHARD": ""})) is None
    shard = Shard.from_settings(Settings({"ARCHIVE_SHARD": "1/4", "ARCHIVE_SHARD_BY": "url"}))
    assert shard == Shard(1, 4, "url") and not shard.owns_posts and Shard(0, 4).owns_posts
    assert shard.warc_prefix("citearchive", "RUN") == "citearchive-RUN-p1"
    assert shard.journal_run_id("RUN") == "RUN.p1"
    assert shard.staging_out(Path("out"), "RUN") == Path("out/processes/RUN/p1")
    with pytest.raises(ValueError, match="ARCHIVE_SHARD_BY"):
        Shard.parse("0/2", "path")


def test_the_spider_requests_only_its_shard() -> None:
    links = "".join(f'<a href="{url}">{i}</a> ' for i, url in enumerate(URLS))
    document = extract_post(f"<article><p>{links}</p></article>", "https://blog.example/post")
    requested: dict[str, set[str]] = {}
    for setting in ("0/2", "1/2", ""):
        crawler = get_crawler(CitationsSpider, {"ARCHIVE_SHARD": setting})
        spider = CitationsSpider.from_crawler(crawler)
        requested[setting] = {request.meta["archive_url"] for request in spider._citation_requests(document)}
    assert requested["0/2"] and requested["1/2"]
    assert requested["0/2"].isdisjoint(requested["1/2"])
    assert requested["0/2"] | requested["1/2"] == requested[""] == set(URLS)
    hosts = {shard: {url.split("/")[2] for url in urls} for shard, urls in requested.items() if shard}
    assert hosts["0/2"].isdisjoint(hosts["1/2"])  # by host, the default


def test_only_the_posts_owner_archives_post_pages() -> None:
    archived = {}
    for setting in ("0/2", "1/2", ""):
        spider = CitationsSpider.from_crawler(get_crawler(CitationsSpider, {"ARCHIVE_SHARD": setting}))
        request = spider.post_request("https://blog.example/post", feed="https://blog.example/feed.xml")
        archived[setting] = not request.meta.get(NO_CAPTURE_META_KEY)
        assert request.meta["archive_source"] == "https://blog.example/post"
    assert archived == {"0/2": True, "1/2": False, "": True}
