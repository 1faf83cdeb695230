"""End to end: feeds (a file and a fetched URL), URL lists and Robust Links, against the mock blog."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from crawler.localsite import SiteServer
from tests.conftest import run_cli
from tests.mocksite.content import LOOPBACK_CITATIONS, SOURCES_CITATIONS

COLLECTION = "feeds"
REPLAY_BASE = "https://archive.example.org/replay/"


def rss(items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for title, link, date in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>The Mock Blog</title><link>http://127.0.0.1/</link>{entries}</channel></rss>"
    )


def manifest_of(out: Path) -> dict[str, Any]:
    (path,) = sorted((out / "collections" / COLLECTION / "manifests").glob("*.json"))
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def archive(args: list[str], tmp_path: Path) -> tuple[dict[str, Any], Path]:
    out = tmp_path / "out"
    run = run_cli(["archive", *args, "--out", str(out), "--collection", COLLECTION, "--allow-private"], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.violations == []
    return manifest_of(out), out


def test_feed_file_yields_each_post_with_its_own_citations(mocksite: Any, tmp_path: Path) -> None:
    feed = tmp_path / "blog.rss"
    feed.write_text(
        rss([
            ("Sources and citations", mocksite.post_url, "Mon, 15 Jan 2024 10:00:00 GMT"),
            ("Loopback", mocksite.loopback_post_url, "Thu, 01 Jun 2023 10:00:00 GMT"),
        ]),
        encoding="utf-8",
    )  # fmt: skip
    manifest, _ = archive([str(feed)], tmp_path)
    posts = {post["url"]: post for post in manifest["posts"]}
    assert set(posts) == {mocksite.post_url, mocksite.loopback_post_url}
    sources, loopback = posts[mocksite.post_url], posts[mocksite.loopback_post_url]
    for post in (sources, loopback):
        assert post["feed"] == str(feed)
        assert post["snapshot"]["status"] == "archived"  # the post page itself was fetched
    assert [(c["url"], c["anchor_text"]) for c in sources["citations"]] == [
        (mocksite.site_url(path), text) for path, text in SOURCES_CITATIONS
    ]
    assert [(c["url"], c["anchor_text"]) for c in loopback["citations"]] == [
        (mocksite.site_url(path), text) for path, text in LOOPBACK_CITATIONS
    ]


def test_fetched_atom_feed_with_since(mocksite: Any, tmp_path: Path) -> None:
    site = tmp_path / "feedsite"
    site.mkdir()
    (site / "atom.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>The Mock Blog</title><id>urn:mock</id><updated>2024-01-15T10:00:00Z</updated>"
        f'<entry><title>Sources</title><link href="{mocksite.post_url}"/><id>urn:1</id>'
        "<updated>2024-01-15T10:00:00Z</updated></entry>"
        f'<entry><title>Loopback</title><link href="{mocksite.loopback_post_url}"/><id>urn:2</id>'
        "<updated>2023-06-01T10:00:00Z</updated></entry></feed>",
        encoding="utf-8",
    )
    with SiteServer(site) as server:
        feed_url = server.url("atom.xml")
        manifest, _ = archive([feed_url, "--since", "2024-01-01"], tmp_path)
    (post,) = manifest["posts"]
    assert post["url"] == mocksite.post_url
    assert post["feed"] == feed_url
    assert len(post["citations"]) == len(SOURCES_CITATIONS)


def test_url_list_file_and_robust_links(mocksite: Any, tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# posts to archive\n\n{mocksite.post_url}   # the main one\n", encoding="utf-8")
    robust = tmp_path / "post.robust.html"
    manifest, out = archive([str(urls), "--robust-links", str(robust), "--replay-base", REPLAY_BASE], tmp_path)
    (post,) = manifest["posts"]
    assert post["source"] == mocksite.post_url
    html = robust.read_text(encoding="utf-8")
    archived = [c for c in post["citations"] if c["capture"]["status"] == "archived"]
    assert len(archived) >= 8  # all but the 404 and the 500
    for citation in post["citations"]:
        capture = citation["capture"]
        href = re.escape(citation["url"].replace("&", "&amp;"))
        tag = re.search(rf'<a href="{href}"[^>]*>', html)
        assert tag is not None, citation["url"]
        if capture["status"] == "archived":
            ts = capture["timestamp"]
            expected = f"https://archive.example.org/replay/{COLLECTION}/{ts}/{citation['url']}"
            assert f'data-versionurl="{expected.replace("&", "&amp;")}"' in tag.group()
            assert f'data-versiondate="{ts[:4]}-{ts[4:6]}-{ts[6:8]}"' in tag.group()
        else:
            assert "data-versionurl" not in tag.group()
    # Nothing else changed: removing the attributes gives back the archived page.
    stripped = re.sub(r' data-versionurl="[^"]*" data-versiondate="[^"]*"', "", html)
    original = mocksite_post_bytes(mocksite)
    assert stripped.encode("utf-8") == original


def mocksite_post_bytes(mocksite: Any) -> bytes:
    from tests.mocksite.content import sources_post

    return sources_post(mocksite.sites)
