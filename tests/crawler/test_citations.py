"""Tests for crawler.citations: main content, link rules, context, keys, decoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.citations import (
    Citation,
    PostDocument,
    canonical_url,
    citation_key,
    decode_html,
    extract_post,
)
from crawler.context import MAX_CONTEXT, context_for

POSTS = Path(__file__).parent.parent / "data" / "posts"
WP_URL = "https://blog.example.com/2024/05/why-archives-matter/"


def read(name: str) -> str:
    return decode_html((POSTS / name).read_bytes())


def rows(doc: PostDocument) -> list[tuple[int, str, str, str]]:
    return [(c.n, c.url, c.anchor_text, c.context) for c in doc.citations]


def test_wordpress_page_keeps_only_the_entry_content() -> None:
    doc = extract_post(read("wordpress.html"), WP_URL)
    assert doc.url == WP_URL
    assert doc.title == "Why archives matter"
    nature = (
        "https://www.nature.com/articles/d41586-021-02756-z"
        "?utm_source=twitter&utm_medium=social"
    )
    assert rows(doc) == [
        (1, nature, "Nature study",
         "A Nature study found that many links in papers die within a decade."),
        (2, "https://web.archive.org/", "Wayback Machine",
         "The Wayback Machine helps, but not always."),
        (3, "https://perma.cc/about#how", "Perma.cc docs",
         "See also my older post and the Perma.cc docs."),
        (4, "https://en.wikipedia.org/wiki/Link_rot", "Link rot on Wikipedia",
         "Link rot on Wikipedia: a good overview."),
        (5, "https://web.archive.org/", "Internet Archive", "Again, the Internet Archive."),
    ]  # fmt: skip
    assert doc.citations[0].key == "https://www.nature.com/articles/d41586-021-02756-z"
    # The same source cited twice: two citations, one key.
    assert doc.citations[1].key == doc.citations[4].key == "https://web.archive.org/"


def test_include_internal_adds_same_registered_domain_but_not_the_post_itself() -> None:
    doc = extract_post(read("wordpress.html"), WP_URL, include_internal=True)
    # www.example.com is the same site as blog.example.com; the "May 3" permalink
    # is the post itself; author, category and related links are boilerplate.
    assert [(c.n, c.url) for c in doc.citations] == [
        (1, "https://www.nature.com/articles/d41586-021-02756-z?utm_source=twitter&utm_medium=social"),
        (2, "https://web.archive.org/"),
        (3, "https://www.example.com/older-post/"),
        (4, "https://perma.cc/about#how"),
        (5, "https://en.wikipedia.org/wiki/Link_rot"),
        (6, "https://web.archive.org/"),
    ]  # fmt: skip


def test_bare_html_falls_back_to_body_without_boilerplate() -> None:
    doc = extract_post(read("bare.html"), "http://127.0.0.1:8001/notes.html")
    assert doc.title == "Notes on caching"
    assert rows(doc) == [
        (1, "https://httpwg.org/specs/rfc9111.html", "RFC 9111", "Read RFC 9111 first."),
        # Same IP, other port: another site (the test sites rely on this).
        (2, "http://127.0.0.1:8002/mirror/rfc9110.html", "a mirror",
         "Then read the semantics (there is a mirror), mail me, click or go up."),
        (3, "https://www.mnot.net/cache_docs/", "caching tutorial",
         "Mark's caching tutorial is old but good"),
    ]  # fmt: skip


def test_bare_html_internal_links_on_same_host_and_port() -> None:
    doc = extract_post(
        read("bare.html"), "http://127.0.0.1:8001/notes.html", include_internal=True
    )
    assert [c.url for c in doc.citations] == [
        "https://httpwg.org/specs/rfc9111.html",
        "http://127.0.0.1:8001/rfc9110.html",
        "http://127.0.0.1:8002/mirror/rfc9110.html",
        "https://www.mnot.net/cache_docs/",
    ]


def test_quotes_figures_footnotes_and_bare_urls() -> None:
    doc = extract_post(read("quotes.html"), "https://essays.example/quotes.html")
    quote = (
        "Clutter and confusion are failures of design, not attributes of information. "
        "So the point is to find design strategies that reveal detail and complexity."
    )
    assert doc.title == "On quoting"
    assert rows(doc) == [
        (1, "https://www.edwardtufte.com/bboard/q-and-a-fetch-msg?msg_id=0000hB",
         "Clutter and confusion are failures of design, not attributes of information.…",
         quote),
        (2, "https://dl.acm.org/doi/10.1145/356635.356640",
         "premature optimization is the root of all evil",
         "Knuth warned that premature optimization is the root of all evil (mostly)."),
        (3, "https://ourworldindata.org/grapher/internet", "Our World in Data",
         "Chart adapted from Our World in Data."),
        (4, "https://example.org/report.pdf", "https://example.org/report.pdf",
         "The data is at https://example.org/report.pdf."),
        (5, "https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)",
         "Also (see https://en.wikipedia.org/wiki/Foo_(bar)) for more."),
        (6, "https://doi.org/10.1000/xyz123", "A study of things",
         "Smith, J. A study of things, 2020."),
        (7, "https://www.gutenberg.org/ebooks/1342", "Pride and Prejudice",
         "See Pride and Prejudice."),
    ]  # fmt: skip


def test_windows_1252_page_with_meta_charset() -> None:
    body = (POSTS / "cp1252.html").read_bytes()
    assert "å".encode("cp1252") in body
    doc = extract_post(decode_html(body, "text/html"), "https://blogg.example.se/post")
    assert doc.title == "Smörgåsbord of sources"  # <h1> before <title>
    assert rows(doc) == [
        (1, "https://sv.wikipedia.org/wiki/Smörgåsbord", "artikeln om smörgåsbord",
         "Jag läste artikeln om smörgåsbord på Wikipedia."),
        (2, "https://example.no/öl", "blogg om öl", "Åsa’s blogg om öl är också bra – läs den!"),
    ]  # fmt: skip
    assert doc.citations[0].key == "https://sv.wikipedia.org/wiki/Sm%C3%B6rg%C3%A5sbord"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<p>\xe5\xe4\xf6</p>", None, "<p>åäö</p>"),  # undeclared, not UTF-8: cp1252
        ("<p>åäö</p>".encode(), None, "<p>åäö</p>"),  # undeclared UTF-8
        (b"\xef\xbb\xbf<p>\xc3\xa5</p>", "text/html; charset=cp1252", "<p>å</p>"),  # BOM wins
        (b"<meta charset=utf-8><p>\xe5</p>", "text/html; charset=windows-1252",
         "<meta charset=utf-8><p>å</p>"),  # header beats meta
        (b"<meta charset=latin-1><p>\x93hi\x94</p>", None,
         "<meta charset=latin-1><p>“hi”</p>"),  # latin-1 is read as windows-1252
    ],
)  # fmt: skip
def test_decode_html(body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_html(body, content_type) == expected


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://Example.com/a?b=2&a=1#frag", "https://example.com/a?a=1&b=2"),
        ("https://example.com/?utm_source=x&utm_medium=y&id=3&fbclid=z",
         "https://example.com/?id=3"),
        ("https://example.com/p?gclid=1&mc_eid=2&mc_cid=3&yclid=4&msclkid=5&_hsenc=6"
         "&_hsmi=7&igshid=8&ref_src=9", "https://example.com/p"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/?ref=keep", "https://example.com/?ref=keep"),
    ],
)  # fmt: skip
def test_citation_key(url: str, key: str) -> None:
    assert citation_key(url) == key


def test_link_rules_base_href_schemes_fragments_and_self() -> None:
    html = """<html><head><base href="https://mirror.example.net/docs/"></head><body>
    <article><p>One <a href="intro.html">relative</a>, <a href="#top">fragment</a>,
    <a href="mailto:a@b.c">mail</a>, <a href="tel:123">phone</a>,
    <a href="javascript:alert(1)">js</a>, <a href="data:text/plain,hi">data</a>,
    <a href="ftp://ftp.example.org/f">ftp</a>, <a href="https://post.example.org/p?utm_source=x#c">self</a>,
    <a href=" https://ok.example.com/\n">spaced</a>.</p></article></body></html>"""
    doc = extract_post(html, "https://post.example.org/p")
    assert [(c.url, c.anchor_text) for c in doc.citations] == [
        ("https://mirror.example.net/docs/intro.html", "relative"),
        ("https://ok.example.com/", "spaced"),
    ]


def test_no_base_url_drops_relative_links_and_nothing_is_internal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = '<p><a href="/a">a</a> <a href="https://x.example/">x</a> <a href="https://x.example/b">b</a></p>'
    doc = extract_post(html, None)
    assert [c.url for c in doc.citations] == ["https://x.example/", "https://x.example/b"]
    assert "Dropped 1 relative link(s)" in caplog.text


def test_article_choice_ignores_articles_in_nav_aside_and_comments() -> None:
    long = "word " * 200
    html = f"""<body><aside><article><p>{long}<a href="https://aside.example/">a</a></p></article></aside>
    <article><p>Short post with <a href="https://post.example/">a source</a>.</p></article>
    <div id="comments"><article class="comment-body"><p>{long}<a href="https://c.example/">c</a></p></article></div>
    <article><p>Teaser <a href="https://teaser.example/">t</a>.</p></article></body>"""
    assert [c.url for c in extract_post(html, None).citations] == ["https://post.example/"]


@pytest.mark.parametrize(
    ("container", "found"),
    [
        ('<main>{}</main>', True),
        ('<div class="post-body">{}</div>', True),
        ('<div itemprop="articleBody">{}</div>', True),
        ('<div class="article-content">{}</div>', True),
        ('<div class="post-content x">{}</div>', True),
    ],
)
def test_main_content_selectors(container: str, found: bool) -> None:
    inner = '<p>In <a href="https://in.example/">body</a>.</p>'
    html = f'<body><div><a href="https://out.example/">out</a></div>{container.format(inner)}</body>'
    assert [c.url for c in extract_post(html, None).citations] == ["https://in.example/"]


def test_link_without_text_uses_label_or_alt_then_url() -> None:
    html = """<article><p>A <a href="https://a.example/"><img src="x.png" alt="Chart"></a>
    b <a href="https://b.example/" aria-label="Label"></a>
    c <a href="https://c.example/"></a>.</p></article>"""
    assert [c.anchor_text for c in extract_post(html, None).citations] == [
        "Chart", "Label", "https://c.example/",
    ]  # fmt: skip


def test_long_sentence_is_windowed_around_the_anchor() -> None:
    words = " ".join(f"w{i}" for i in range(150))
    html = f'<p>Intro. {words} <a href="https://x.example/">the anchor</a> {words} end. Next.</p>'
    (cite,) = extract_post(html, None).citations
    assert len(cite.context) <= MAX_CONTEXT
    assert cite.context.startswith("…") and cite.context.endswith("…")
    assert "the anchor" in cite.context


def test_context_sentences() -> None:
    text = "Dr. Who said so. See e.g. the report by J. Smith here! Then “Quoted” stuff? 42 more."
    start = text.index("report")
    assert context_for(text, start, start + 6) == "See e.g. the report by J. Smith here!"
    assert context_for(text, 0, 3) == "Dr. Who said so."
    assert context_for(text, len(text) - 4, len(text)) == "42 more."
    assert context_for("line one\nline two. Next", 10, 14) == "line two."


def test_canonical_url() -> None:
    assert canonical_url(read("wordpress.html")) == WP_URL
    og = '<meta property="og:url" content="https://og.example/p">'
    assert canonical_url(og) == "https://og.example/p"
    assert canonical_url('<link rel="canonical" href="/relative">') is None
    assert canonical_url("") is None


@pytest.mark.parametrize("html", ["", "   ", "\x00\x01", "<", "<<<>>>", "</a></p>", "<?xml?>"])
def test_garbage_gives_empty_document(html: str) -> None:
    doc = extract_post(html, "https://example.com/")
    assert doc.citations == []


_FRAGMENTS = [
    "<article>", "</article>", "<p>", "</p>", "<nav>", "</nav>", "<a href='https://a.example/x'>",
    "<a href='/rel'>", "<a href='#f'>", "</a>", "<blockquote cite='https://q.example/'>",
    "</blockquote>", "<q cite=http://[::1>", "https://bare.example/p.", "Text. ", "Åäö ",
    "<br>", "<code>", "</code>", "<div class=comments>", "</div>", "<base href='%%'>",
    "<a href='http://h:99999/'>", "<script>https://s.example/</script>", "\x00", "<!--", "-->",
]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(),
        st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=5)), max_size=40).map(
            "".join
        ),
    ),
    st.sampled_from([None, "https://post.example/p", "http://127.0.0.1:8001/"]),
)
def test_extract_post_never_raises(html: str, base: str | None) -> None:
    doc = extract_post(html, base)
    assert [c.n for c in doc.citations] == list(range(1, len(doc.citations) + 1))
    for cite in doc.citations:
        assert isinstance(cite, Citation)
        assert cite.url.lower().startswith(("http://", "https://"))
        assert cite.anchor_text
        assert len(cite.context) <= MAX_CONTEXT
        if cite.skip_reason is None:
            assert cite.key == citation_key(cite.url)
        else:  # a malformed URL (the fragment http://h:99999/): listed, skipped with why
            assert cite.skip_reason.startswith("malformed URL: ")


def test_article_inside_a_list_item_is_not_the_post() -> None:
    # Webmentions, comments and related cards are often <article>s in a list; with no
    # other <article> on the page, the post is <main>, not the largest list entry.
    html = (
        "<body><main><p>Read <a href='https://a.example/'>A</a>.</p>"
        "<ol><li><article class='h-entry'><p>A long reply that mentions "
        "<a href='https://reply.example/'>my own site</a> and much more text here.</p>"
        "</article></li></ol></main></body>"
    )
    doc = extract_post(html, "https://blog.example/post/")
    assert [c.url for c in doc.citations] == ["https://a.example/", "https://reply.example/"]
    # <main> was chosen, so the link outside the <article> is found; the list itself has
    # no boilerplate name, so the entry's link stays too.
    assert doc.citations[0].anchor_text == "A"


@pytest.mark.parametrize(
    ("cls", "dropped"),
    [
        ("wp-block-post-author__bio", True),  # BEM: word "author"
        ("webmentions__list", True),
        ("webmention h-card", True),
        ("c-comment__body", True),
        ("u-comment h-cite", True),
        ("related-posts__item", True),
        ("article-byline", True),
        ("has-comments", False),  # a state, not a block
        ("tag-related", False),  # a taxonomy class
        ("category-authors", False),
        ("author-note", False),  # a note is content
        ("authorship-x", False),  # a word, not a substring
    ],
)
def test_comment_author_related_byline_words_in_class_tokens(cls: str, dropped: bool) -> None:
    html = (
        "<body><article><p>See <a href='https://a.example/'>A</a>.</p>"
        f"<div class='{cls}'><p>Bio: <a href='https://b.example/'>B</a></p></div>"
        "</article></body>"
    )
    urls = [c.url for c in extract_post(html, "https://blog.example/post/").citations]
    assert urls == (["https://a.example/"] if dropped else ["https://a.example/", "https://b.example/"])


def test_word_rule_is_for_class_tokens_not_ids() -> None:
    # Ids are often made from headings: a "Related work" section holds citations.
    html = (
        "<body><article><section id='related-work'><h2>Related work</h2>"
        "<p><a href='https://paper.example/'>A paper</a></p></section></article></body>"
    )
    assert [c.url for c in extract_post(html, "https://blog.example/post/").citations] == [
        "https://paper.example/"
    ]


@pytest.mark.parametrize(
    ("url", "share"),
    [
        ("https://twitter.com/intent/tweet?text=x", True),
        ("https://x.com/intent/post?url=x", True),
        ("https://www.facebook.com/sharer/sharer.php?u=x", True),
        ("https://www.linkedin.com/sharing/share-offsite/?url=x", True),
        ("https://www.linkedin.com/shareArticle?mini=true&url=x", True),
        ("https://reddit.com/submit/?url=x", True),
        ("https://mastodon.social/share?text=x", True),
        ("https://toot.kytta.dev/?text=x", True),
        ("mailto:?subject=x&body=y", True),
        ("https://api.whatsapp.com/send?text=x", True),
        ("https://t.me/share/url?url=x", True),
        ("https://news.ycombinator.com/submitlink?u=x&t=y", True),
        ("https://pinterest.com/pin/create/button/?url=x", True),
        ("https://bsky.app/intent/compose?text=x", True),
        ("https://blog.example/post/?share=mastodon&nb=1", True),
        ("https://twitter.com/jack/status/20", False),
        ("https://www.facebook.com/notes/123", False),
        ("https://www.reddit.com/r/python/comments/abc/", False),
        ("https://news.ycombinator.com/item?id=1", False),
        ("https://bsky.app/profile/a.example", False),
        ("mailto:me@example.org", False),
        ("https://example.org/share", False),  # a page called "share", no share query
    ],
)
def test_share_endpoints(url: str, share: bool) -> None:
    from crawler.maincontent import is_share_endpoint

    assert is_share_endpoint(url) is share


def test_share_endpoint_links_are_never_citations_and_their_block_is_a_share_bar() -> None:
    html = (
        "<body><article><p>Read <a href='https://a.example/'>A</a>.</p>"
        "<p><a href='https://twitter.com/intent/tweet?url=x'>Tweet this post</a> if you liked it.</p>"
        "<section class='flex pt-4'>Spread the word: https://b.example/ "
        "<a href='https://www.linkedin.com/shareArticle?url=x'>LinkedIn</a>"
        "<a href='https://reddit.com/submit?url=x'>Reddit</a></section>"
        "<p>But a paragraph with a real link keeps it: <a href='https://c.example/'>C</a>, "
        "<a href='https://reddit.com/submit?url=x'>share</a>.</p>"
        "</article></body>"
    )
    doc = extract_post(html, "https://blog.example/post/")
    # The share section's bare URL goes with it; the mixed paragraph keeps its citation.
    assert [c.url for c in doc.citations] == ["https://a.example/", "https://c.example/"]
