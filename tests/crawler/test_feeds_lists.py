"""Tests for crawler.feeds, crawler.urllist and crawler.robustlinks (pure parts)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.feeds import FeedError, looks_like_feed, parse_feed, parse_since, select_entries
from crawler.robustlinks import RobustLinksError, Version, annotate_html, replay_url, versions_of
from crawler.sources import SourceError, parse_source
from crawler.urllist import expand_sources, parse_url_list
from crawler.urls import citation_key

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/">
  <title>Blog</title><link href="https://blog.example/"/><id>urn:b</id><updated>2024-03-01T00:00:00Z</updated>
  <entry><title>New</title><link rel="alternate" href="/2024/03/new/"/><id>urn:1</id>
    <published>2024-03-01T08:00:00+01:00</published><updated>2024-03-01T08:00:00+01:00</updated></entry>
  <entry><title>Old</title><link href="https://blog.example/2023/old/"/><id>urn:2</id>
    <updated>2023-01-01T00:00:00Z</updated></entry>
  <entry><title>Undated, content only</title><id>urn:3</id>
    <content type="html">&lt;p&gt;See &lt;a href="https://src.example/"&gt;this&lt;/a&gt;.&lt;/p&gt;</content></entry>
</feed>"""
RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>R</title><link>https://r.example/</link>
<item><title>One</title><link>https://r.example/one</link><pubDate>Tue, 02 Jan 2024 10:00:00 +0000</pubDate>
<description>&lt;p&gt;Summary&lt;/p&gt;</description></item></channel></rss>"""


def test_atom_entries_links_dates_and_content() -> None:
    feed = parse_feed(ATOM, "https://blog.example/atom.xml", "application/atom+xml")
    assert feed.title == "Blog"
    assert [e.link for e in feed.entries] == [
        "https://blog.example/2024/03/new/", "https://blog.example/2023/old/", None,
    ]  # fmt: skip
    assert feed.entries[0].published == datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)
    assert feed.entries[2].published is None
    assert 'href="https://src.example/"' in (feed.entries[2].content or "")


def test_since_keeps_newer_and_undated_entries() -> None:
    entries = parse_feed(ATOM).entries
    since = parse_since("2024-01-01")
    assert [e.title for e in select_entries(entries, since)] == ["New", "Undated, content only"]
    assert select_entries(entries, None) == entries
    assert parse_since("2024-03-01T07:30:00Z") == datetime(2024, 3, 1, 7, 30, tzinfo=timezone.utc)
    with pytest.raises(FeedError, match="invalid date 'last week'"):
        parse_since("last week")


def test_rss_and_detection() -> None:
    (entry,) = parse_feed(RSS, None, "text/xml").entries
    assert entry.link == "https://r.example/one"
    assert looks_like_feed(b"\xef\xbb\xbf  <?xml version='1.0'?>\n<!-- x -->\n<rss version='2.0'>")
    assert looks_like_feed(ATOM, "text/plain")  # by content, whatever the header says
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>rss</body></html>", "text/xml")
    assert not looks_like_feed(RSS, "text/html")
    with pytest.raises(FeedError, match="not an RSS or Atom feed"):
        parse_feed(b"<html><p>no</p></html>")


def test_feed_and_list_files_are_sources(tmp_path: Path) -> None:
    for name in ("a.xml", "b.rss", "c.atom"):
        (tmp_path / name).write_bytes(RSS)
        assert parse_source(str(tmp_path / name)).kind == "feed"
    (tmp_path / "urls.txt").write_text("https://a.example/\n")
    assert parse_source(str(tmp_path / "urls.txt")).kind == "urllist"


def test_url_list_comments_blank_lines_and_errors(tmp_path: Path) -> None:
    text = "# reading list\n\nhttps://a.example/p#frag\n  https://b.example/q  # a note\n"
    assert parse_url_list(text, "list") == ["https://a.example/p#frag", "https://b.example/q"]
    with pytest.raises(SourceError, match=r"^list, line 2: .*ftp"):
        parse_url_list("https://ok.example/\nftp://x.example/\n", "list")
    post = tmp_path / "post.html"
    post.write_text("<p>hi</p>")
    with pytest.raises(SourceError, match="line 1: expected an http"):
        parse_url_list(str(post), "list")


def test_expand_sources_reads_lists_and_stdin_once(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("https://a.example/\n", encoding="utf-8")
    stdin = io.StringIO("https://s.example/1\nhttps://s.example/2\n")
    expanded = expand_sources(["-", str(urls), "https://c.example/", "-"], stdin)
    assert expanded == ["https://s.example/1", "https://s.example/2", "https://a.example/", "https://c.example/"]


def test_versions_and_replay_urls() -> None:
    post = {"citations": [
        {"url": "https://a.example/?utm_source=x", "capture": {"status": "archived", "timestamp": "20240102030405"}},
        {"url": "https://a.example/", "capture": {"status": "archived", "timestamp": "20250101000000"}},
        {"url": "https://gone.example/", "capture": {"status": "failed", "timestamp": "20240102030405"}},
    ]}  # fmt: skip
    versions = versions_of(post, "coll", "https://replay.example/wb/")
    assert versions == {
        "https://a.example/": Version(
            "https://replay.example/wb/coll/20240102030405/https://a.example/?utm_source=x", "2024-01-02"
        )
    }
    with pytest.raises(RobustLinksError, match="--replay-base"):
        replay_url("ftp://x", "c", "20240101000000", "https://a.example/")


def test_annotate_html_touches_only_matching_start_tags() -> None:
    html = (
        '<base href="https://post.example/dir/">\r\n<p>A <A HREF="x.html?utm_source=m&amp;b=1" class=c>x</A>,'
        ' <a href=/rel/>r</a>, <a href="https://b.example/"/>, <a href="https://c.example/">c</a>,'
        ' <a href="https://b.example/" data-versionurl="mine">kept</a>. Åäö “q”</p>'
    )
    versions = {
        citation_key(u): Version(f"V:{u}", "2024-01-02")
        for u in ("https://post.example/dir/x.html?b=1", "https://post.example/rel/", "https://b.example/")
    }
    out, count = annotate_html(html, "https://post.example/dir/post", versions)
    assert count == 3
    assert 'class=c data-versionurl="V:https://post.example/dir/x.html?b=1" data-versiondate="2024-01-02">' in out
    assert '<a href=/rel/ data-versionurl="V:https://post.example/rel/" data-versiondate="2024-01-02">' in out
    assert '<a href="https://b.example/" data-versionurl="V:https://b.example/" data-versiondate="2024-01-02"/>' in out
    assert '<a href="https://b.example/" data-versionurl="mine">kept</a>' in out
    assert re.sub(r' data-versionurl="V:[^"]*" data-versiondate="[^"]*"', "", out) == html



