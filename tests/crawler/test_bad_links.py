"""Bad links never cost a post: a malformed URL is a citation (or post, or requisite) skipped with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

import crawler.settings as project_settings
from archive.manifest import compile_manifest, validate_manifest
from archive.manifeststream import write_manifest_from_journals
from crawler.citations import MALFORMED_KEY_PREFIX, extract_post
from crawler.distributed.reconcile import reconcile
from crawler.distributed.tasks import citation_tasks, local_post_entry
from crawler.feeds import Feed, FeedEntry, parse_feed
from crawler.fetchable import Unrequestable, make_request
from crawler.items import CaptureItem, PostItem, RequisitesItem
from crawler.middlewares.addressguard import AddressGuardMiddleware, MalformedRequest
from crawler.middlewares.capture import HOPS_META_KEY
from crawler.outcomes import outcome_from_failure
from crawler.robustlinks import Version, annotate_html
from crawler.sources import SourceError, parse_source
from crawler.spiders.citations import CitationsSpider
from crawler.ssrf import GuardedResolver
from crawler.urllist import BadLine, url_list_entries
from crawler.urls import citation_key, resolve_href, url_problem

# The wording of each reason: what a user reads in the manifest and the summary table.
REASONS = [
    ("http://%zz/", "'%zz' is not a valid host name"),
    ("http://%E9.example/", "'%E9.example' is not a valid host name"),
    ("http://ex ample.org/", "'ex ample.org' is not a valid host name"),
    ("http://a\x01b.example/", "'a\\x01b.example' is not a valid host name"),
    ("http://a%2Fb/", "'a%2Fb' is not a valid host name"),
    ("http://a..b/", "'a..b' is not a valid host name (a label is empty or longer than 63 characters)"),
    ("http://" + "a" * 64 + ".example/", "is not a valid host name (a label is empty or longer than 63 characters)"),
    ("http://" + "ä" * 70 + ".example/", "is not a valid host name"),
    ("http://\u00ad/", "'\\xad' is not a valid host name"),
    ("http://256.1.1.1/", "'256.1.1.1' is not a valid IPv4 address"),
    ("http://1.2.3.4.5/", "'1.2.3.4.5' is not a valid IPv4 address"),
    ("http://[::1", "'[::1' is not a valid IPv6 address"),
    ("http://[zz]/", "'[zz]' is not a valid IPv6 address"),
    ("http://[1.2.3.4]/", "'[1.2.3.4]' is not a valid IPv6 address"),
    ("http://example.org:99999/", "the port '99999' is not a number from 0 to 65535"),
    ("http://example.org:-1/", "the port '-1' is not a number from 0 to 65535"),
    ("http://example.org:8o/", "the port '8o' is not a number from 0 to 65535"),
    ("http://[::1]:80:80/", "the port '80:80' is not a number from 0 to 65535"),
    ("http://", "it has no host"),
    ("http:///path", "it has no host"),
    ("http://:80/", "it has no host"),
]
FETCHABLE = [
    "https://example.org/a?b=1#c",
    "http://example.org/%zz",  # a bad escape in the path is sent as %25zz
    "http://münchen.example/",
    "http://faß.example/",
    "http://[::1]:8080/",
    "http://127.1/",
    "http://a_b.example/",
    "http://xn--zz.example/",  # not valid punycode, but DNS gives the verdict, not the parser
    "https://example.org/" + "x" * 100_000,
]


@pytest.mark.parametrize(("url", "reason"), REASONS)
def test_each_malformed_url_has_a_reason_naming_the_part_at_fault(url: str, reason: str) -> None:
    problem = url_problem(url)
    assert problem is not None and reason in problem
    assert "\n" not in problem and len(problem) < 200


@pytest.mark.parametrize("url", FETCHABLE)
def test_what_the_parsers_accept_is_fetchable_and_keyed(url: str) -> None:
    assert url_problem(url) is None
    assert citation_key(url)
    make_request(url, 0)


@pytest.mark.parametrize("href", ["mailto:a@example.org", "javascript:alert(1)", "#top", "", "  ", "ftp://x.example/",
                                  "data:text/plain,x", "tel:123"])
def test_other_schemes_and_fragments_are_not_links(href: str) -> None:
    assert resolve_href("https://blog.example/p", href) is None


def test_relative_links_need_a_base_and_broken_scheme_relative_ones_are_malformed() -> None:
    assert resolve_href(None, "/rel") is None
    assert resolve_href("https://blog.example/p", "/rel") == "https://blog.example/rel"
    assert resolve_href("https://blog.example/p", "//[zz]/x") == "https://[zz]/x"
    assert resolve_href("https://blog.example/p", "//[::1") == "https://[::1"  # urljoin cannot split it


POST = """<html><head><link rel="canonical" href="http://%zz/"></head><body><article>
<p>Good <a href="https://good.example/1">first</a>. Broken <a href="http://%zz/">a bad host</a> here.</p>
<blockquote cite="http://[::1/quote"><p>A quotation worth keeping.</p></blockquote>
<p>Bare http://256.1.1.1/bare in the text, and https://good.example/2 too. The http://. prefix is prose.</p>
<p><a href="mailto:me@example.org">mail</a> <a href="javascript:void(0)">js</a> <a href="#f">frag</a>
<a href="http://example.org:99999/"><img src="http://%zz/i.png" alt="an image link"></a>
<a href="https://good.example/1">first again</a> <a href="http://%zz/">the bad host again</a>.</p>
</article></body></html>"""


def test_malformed_citations_keep_their_place_text_and_context() -> None:
    document = extract_post(POST, "https://blog.example/post")
    rows = [(c.n, c.url, c.anchor_text, c.skip_reason) for c in document.citations]
    assert rows == [
        (1, "https://good.example/1", "first", None),
        (2, "http://%zz/", "a bad host", "malformed URL: '%zz' is not a valid host name"),
        (3, "http://[::1/quote", "A quotation worth keeping.", "malformed URL: '[::1' is not a valid IPv6 address"),
        (4, "http://256.1.1.1/bare", "http://256.1.1.1/bare", "malformed URL: '256.1.1.1' is not a valid IPv4 address"),
        (5, "https://good.example/2", "https://good.example/2", None),
        (6, "http://example.org:99999/", "an image link",
         "malformed URL: the port '99999' is not a number from 0 to 65535"),
        (7, "https://good.example/1", "first again", None),
        (8, "http://%zz/", "the bad host again", "malformed URL: '%zz' is not a valid host name"),
    ]  # fmt: skip
    assert document.citations[1].context == "Broken a bad host here."
    skipped = document.citations[1]
    assert skipped.key == MALFORMED_KEY_PREFIX + "http://%zz/"
    assert skipped.journal_entry()["capture"] == {"status": "skipped", "reason": skipped.skip_reason}
    assert "capture" not in document.citations[0].journal_entry()


def test_a_malformed_base_is_never_used() -> None:
    html = '<html><head><base href="http://[::1"></head><body><article><a href="/a">a</a></article></body></html>'
    (citation,) = extract_post(html, "https://blog.example/post", include_internal=True).citations
    assert citation.url == "https://blog.example/a" and citation.skip_reason is None
    (citation,) = extract_post('<article><a href="/a">a</a></article>', "http://%zz/", include_internal=True).citations
    assert citation.skip_reason == "malformed URL: '%zz' is not a valid host name"


# ------------------------------------------------------------------ the manifest


def journal_lines(document: Any) -> list[dict[str, Any]]:
    post = PostItem("p1", "post.html", document.url, document.title, None, [c.journal_entry() for c in document.citations])
    # A capture that happens to carry a malformed citation's key must not be taken for it.
    stray = {"kind": "capture", "key": MALFORMED_KEY_PREFIX + "http://%zz/", "capture": {"status": "archived"}}
    good = {"kind": "capture", "key": "https://good.example/1", "url": "https://good.example/1",
            "capture": {"status": "failed", "reason": "HTTP 404", "http_status": 404}}
    return [post.to_journal(), stray, good]


def test_the_manifest_lists_them_skipped_in_place_and_validates(tmp_path: Path) -> None:
    lines = journal_lines(extract_post(POST, "https://blog.example/post"))
    kwargs = {"run_id": "r", "collection": "c", "started": "2024-01-01T00:00:00Z", "finished": "2024-01-01T00:00:01Z"}
    manifest = compile_manifest(lines, **kwargs)
    validate_manifest(manifest)
    journal = tmp_path / "r.journal.jsonl"
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    counts = write_manifest_from_journals(tmp_path / "r.json", [journal], **kwargs)
    streamed = json.loads((tmp_path / "r.json").read_text())
    assert streamed["posts"] == manifest["posts"]
    assert counts["skipped"] == 6 and counts["failed"] == 2  # 5 malformed, good.example/2 not attempted
    citations = manifest["posts"][0]["citations"]
    assert [c["n"] for c in citations] == list(range(1, 9))
    bad = citations[1]
    assert bad["url"] == "http://%zz/" and bad["anchor_text"] == "a bad host"
    assert bad["capture"]["status"] == "skipped"
    assert bad["capture"]["reason"] == "malformed URL: '%zz' is not a valid host name"
    assert all(bad["capture"][field] is None for field in ("http_status", "final_url", "warc_file", "record_id"))
    assert "key" not in bad
    assert citations[4]["capture"]["reason"].startswith("not attempted")  # no capture for good.example/2


# ------------------------------------------------------------------ the spider


def spider(**overrides: Any) -> CitationsSpider:
    settings = {k: v for k, v in vars(project_settings).items() if k.startswith("ARCHIVE_")}
    return CitationsSpider.from_crawler(get_crawler(CitationsSpider, {**settings, **overrides}))


def test_the_spider_requests_only_fetchable_citations() -> None:
    crawl = spider()
    document = extract_post(POST, "https://blog.example/post")
    outputs = list(crawl._citation_requests(document))
    assert [o.url for o in outputs if isinstance(o, scrapy.Request)] == ["https://good.example/1", "https://good.example/2"]
    assert len(outputs) == 2
    # A resumed run reads the post's journal entry: the skipped ones are settled there.
    entry = crawl._post_item("post.html", document, None).to_journal()
    resumed = list(spider()._resumed_post(entry))
    assert [o.url for o in resumed if isinstance(o, scrapy.Request)] == ["https://good.example/1", "https://good.example/2"]
    assert len(resumed) == 2


def test_a_url_over_the_length_limit_is_skipped_with_the_setting_named() -> None:
    crawl = spider(URLLENGTH_LIMIT=100)
    url = "https://good.example/?q=" + "x" * 200
    document = extract_post(f'<article><a href="{url}">long</a> <a href="https://good.example/">ok</a></article>', None)
    long_one, short_one = crawl._citation_requests(document)
    assert isinstance(long_one, CaptureItem) and long_one.outcome.status == "skipped"
    assert "224 characters long, over URLLENGTH_LIMIT (100)" in (long_one.outcome.reason or "")
    assert isinstance(short_one, scrapy.Request)


def test_a_malformed_post_url_costs_only_its_post() -> None:
    crawl = spider()
    item = crawl._post_output("http://a..b/post", "http://a..b/post")
    assert isinstance(item, PostItem) and item.snapshot is not None
    assert item.snapshot.status == "skipped" and item.citations == []
    assert item.snapshot.reason == "malformed URL: 'a..b' is not a valid host name (a label is empty or longer than 63 characters)"
    assert isinstance(crawl._post_output("https://blog.example/p", "https://blog.example/p"), scrapy.Request)


def test_a_feed_entry_with_a_malformed_link_costs_only_its_entry() -> None:
    feed = Feed("F", None, [FeedEntry("https://blog.example/1", "one", None, None),
                            FeedEntry("http://[::1/2", "two", None, None),
                            FeedEntry("https://blog.example/3", "three", None, None)])  # fmt: skip
    outputs = list(spider().feed_posts("feed.xml", feed))
    assert [type(o).__name__ for o in outputs] == ["Request", "PostItem", "Request"]
    skipped = outputs[1]
    assert skipped.feed == "feed.xml" and skipped.snapshot.reason == "malformed URL: '[::1' is not a valid IPv6 address"


def test_feed_parsing_prefers_a_fetchable_link_and_keeps_a_malformed_one_alone() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>R</title><link>http://%zz/</link>
    <item><title>A</title><link>http://%zz/a</link></item></channel></rss>"""
    feed = parse_feed(rss)
    assert feed.link is None  # never a base for entries read from their content
    assert [e.link for e in feed.entries] == ["http://%zz/a"]


def test_a_bad_line_of_a_url_list_read_by_the_spider_costs_only_itself() -> None:
    entries = url_list_entries("https://blog.example/1\nhttp://256.1.1.1/\nnotes.html\nhttps://blog.example/2\n", "l.txt")
    assert [e if isinstance(e, str) else e.text for e in entries] == [
        "https://blog.example/1", "http://256.1.1.1/", "notes.html", "https://blog.example/2"]  # fmt: skip
    assert isinstance(entries[1], BadLine) and str(entries[1].error) == (
        "l.txt, line 2: malformed URL http://256.1.1.1/: '256.1.1.1' is not a valid IPv4 address"
    )
    outputs = list(spider()._local_outputs("l.txt", entries))
    assert [type(o).__name__ for o in outputs] == ["Request", "PostItem", "PostItem", "Request"]
    assert outputs[1].source == "http://256.1.1.1/" and outputs[1].snapshot.status == "skipped"


def test_the_cli_refuses_a_malformed_source_in_one_line() -> None:
    with pytest.raises(SourceError, match=r"^malformed URL http://256.1.1.1/x: '256.1.1.1' is not a valid IPv4"):
        parse_source("http://256.1.1.1/x")


def test_a_malformed_requisite_is_skipped_and_the_page_keeps_the_others() -> None:
    crawl = spider()
    html = '<img src="/ok.png"><img src="http://%zz/a.png"><script src="http://a..b/s.js"></script><img src="//[::1/c.png">'
    response = HtmlResponse("https://page.example/", body=html.encode(), encoding="utf-8",
                            request=scrapy.Request("https://page.example/"))  # fmt: skip
    outputs = list(crawl.requisite_requests(response, "k1"))
    requests = [o for o in outputs if isinstance(o, scrapy.Request)]
    (item,) = [o for o in outputs if isinstance(o, RequisitesItem)]
    assert [r.url for r in requests] == ["https://page.example/ok.png"]
    assert [(url, outcome.status, outcome.reason) for url, _, outcome in item.outcomes] == [
        ("http://%zz/a.png", "skipped", "malformed URL: '%zz' is not a valid host name"),
        ("http://a..b/s.js", "skipped",
         "malformed URL: 'a..b' is not a valid host name (a label is empty or longer than 63 characters)"),
        ("https://[::1/c.png", "skipped", "malformed URL: '[::1' is not a valid IPv6 address"),
    ]  # fmt: skip
    # Another page needing the same bad image is credited the same outcome, without a request.
    again = list(crawl.requisite_requests(response.replace(url="https://page.example/2"), "k2"))
    assert not any(isinstance(o, scrapy.Request) for o in again)
    assert crawl.crawler.stats.get_value("archive/requisites/skipped") == 3


def test_a_redirect_to_a_host_no_lookup_can_take_fails_with_its_hop() -> None:
    guard = AddressGuardMiddleware(allow_private=False)
    request = scrapy.Request("http://a..b/x", meta={HOPS_META_KEY: [{"url": "http://site.example/r", "http_status": 302}]})
    with pytest.raises(MalformedRequest) as raised:
        guard.process_request(request)
    failure = Failure(raised.value)
    failure.request = request  # type: ignore[attr-defined]
    outcome = outcome_from_failure(failure)
    assert outcome.status == "failed" and outcome.hops
    assert outcome.reason == (
        "redirected to a malformed URL 'http://a..b/x': 'a..b' is not a valid host name "
        "(a label is empty or longer than 63 characters)"
    )
    guard.process_request(scrapy.Request("http://good.example/"))  # nothing to say


class _MustNotResolve:
    def resolveHostName(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("getaddrinfo would raise in the resolver's thread, unhandled")


class _Reactor:
    nameResolver = _MustNotResolve()


class _Receiver:
    def __init__(self) -> None:
        self.began = self.complete = False
        self.addresses: list[Any] = []

    def resolutionBegan(self, resolution: Any) -> None:
        self.began = True

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.complete = True


@pytest.mark.parametrize("host", ["a..b", "a" * 64 + ".example", ".example"])
def test_the_resolver_answers_no_address_for_a_name_getaddrinfo_cannot_encode(host: str) -> None:
    with pytest.raises(UnicodeError):
        host.encode("idna")  # what socket.getaddrinfo does with a str host
    receiver = _Receiver()
    GuardedResolver(_Reactor(), 100).resolveHostName(receiver, host, 80)  # type: ignore[arg-type]
    assert receiver.began and receiver.complete and receiver.addresses == []


def test_make_request_gives_reasons_not_exceptions() -> None:
    with pytest.raises(Unrequestable, match="^malformed URL: '%zz' is not a valid host name$"):
        make_request("http://%zz/", 0)
    with pytest.raises(Unrequestable, match="^malformed URL: it has no host$"):
        make_request("http:///x", 0)


# ------------------------------------------------------------------ everything else reading citations


def test_distributed_tasks_and_reconcile_leave_skipped_citations_alone() -> None:
    document = extract_post(POST, "https://blog.example/post")
    assert [t["url"] for t in citation_tasks(document)] == ["https://good.example/1", "https://good.example/2"]
    entry = local_post_entry("p1", "post.html", document)
    result = reconcile([("p1", {"source": "post.html", "url": None, "entry": entry})], [])
    assert sorted(t["url"] for t in result.missing) == ["https://good.example/1", "https://good.example/2"]


def test_robust_links_skip_malformed_hrefs() -> None:
    html = '<a href="http://%zz/">bad</a> <a href="http://[::1">worse</a> <a href="https://good.example/1">good</a>'
    versions = {citation_key("https://good.example/1"): Version("https://archive.example/x", "2024-01-02")}
    annotated, count = annotate_html(html, "https://blog.example/", versions)
    assert count == 1 and 'href="https://good.example/1" data-versionurl=' in annotated


def test_the_cli_refuses_a_malformed_base_or_front_matter_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.cli import main
    from crawler.sources import read_local_post

    post = tmp_path / "post.html"
    post.write_text('<article><a href="/a">a</a></article>', encoding="utf-8")
    assert main(["archive", str(post), "--base", "http://%zz/", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--base must be an absolute http(s) URL, got http://%zz/: '%zz' is not a valid host name" in err
    notes = tmp_path / "notes.md"
    notes.write_text("---\nurl: http://[::1/post\n---\n[a](/a)\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"front matter url: in .*notes.md must be an absolute http\(s\) URL, got "
                                          r"http://\[::1/post: '\[::1' is not a valid IPv6 address"):  # fmt: skip
        read_local_post(parse_source(str(notes)))
