"""Tests for crawler.sources: classifying post arguments and reading local posts."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.sources import Source, SourceError, load_local_post, parse_source

POSTS = Path(__file__).parent.parent / "data" / "posts"


def rows(source: Source) -> list[tuple[int, str, str, str]]:
    doc = load_local_post(source)
    return [(c.n, c.url, c.anchor_text, c.context) for c in doc.citations]


@pytest.mark.parametrize(
    "url",
    ["https://blog.example.com/post", "http://127.0.0.1:8001/a.html?x=1", "HTTP://[::1]:80/",
     "https://bücher.example/über"],
)  # fmt: skip
def test_parse_source_urls(url: str) -> None:
    assert parse_source(f"  {url} ") == Source("url", url)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("wordpress.html", "html"), ("cp1252.html", "html"), ("reading-list.md", "markdown")],
)
def test_parse_source_files(name: str, kind: str) -> None:
    source = parse_source(str(POSTS / name))
    assert source == Source(kind, str((POSTS / name).resolve()))  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".htm", ".xhtml", ".HTML", ".markdown"])
def test_parse_source_other_suffixes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"post{suffix}"
    path.write_text("x")
    expected = Source("markdown" if suffix == ".markdown" else "html", str(path))
    assert parse_source(str(path)) == expected


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("http://", "malformed URL http://: it has no host name"),
        ("http:///x", "malformed URL http:///x: it has no host name"),
        ("https://exa mple.com/", "malformed URL https://exa mple.com/: the host name contains spaces"),
        ("http://exa!mple.com/", "malformed URL http://exa!mple.com/: invalid host name 'exa!mple.com'"),
        ("https://example.com/a b", "malformed URL https://example.com/a b: it contains spaces"),
        ("http://example.com:99999/", "malformed URL http://example.com:99999/: Port out of range"),
        ("http:example.com", "malformed URL http:example.com: expected http://host/path"),
        ("ftp://example.com/file", "unsupported URL scheme 'ftp' in ftp://example.com/file"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("posts/missing.html", "post file not found: posts/missing.html"),
        ("example.com/post", "post file not found: example.com/post (for a web page give"),
        ("", "empty post source"),
        ("bad\nname.html", "post file not found: 'bad\\nname.html'"),
    ],
)  # fmt: skip
def test_parse_source_errors(arg: str, message: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_source(arg)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_parse_source_unsupported_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.doc").write_text("hi")
    with pytest.raises(SourceError, match=r"^unsupported post file type '\.doc': .*expected \.html"):
        parse_source(str(tmp_path / "notes.doc"))
    with pytest.raises(SourceError, match="^post source is a directory"):
        parse_source(str(tmp_path))


def test_load_html_uses_canonical_as_base() -> None:
    doc = load_local_post(parse_source(str(POSTS / "wordpress.html")))
    assert doc.url == "https://blog.example.com/2024/05/why-archives-matter/"
    assert doc.title == "Why archives matter"
    assert [c.n for c in doc.citations] == [1, 2, 3, 4, 5]
    assert "https://www.example.com/older-post/" not in [c.url for c in doc.citations]


def test_load_html_base_url_argument_wins(tmp_path: Path) -> None:
    shutil.copy(POSTS / "wordpress.html", tmp_path / "p.html")
    doc = load_local_post(Source("html", str(tmp_path / "p.html")), base_url="https://elsewhere.example/")
    assert doc.url == "https://elsewhere.example/"
    # With another site as the base, the blog's own links are external citations.
    assert "https://www.example.com/older-post/" in [c.url for c in doc.citations]


def test_load_cp1252_html() -> None:
    source = parse_source(str(POSTS / "cp1252.html"))
    assert rows(source)[0] == (
        1, "https://sv.wikipedia.org/wiki/Smörgåsbord", "artikeln om smörgåsbord",
        "Jag läste artikeln om smörgåsbord på Wikipedia.",
    )  # fmt: skip


def test_load_markdown_post() -> None:
    source = parse_source(str(POSTS / "reading-list.md"))
    doc = load_local_post(source)
    assert doc.url == "https://notes.example.dev/reading-list/"
    assert doc.title == "Reading list"
    rfc9110 = "https://www.rfc-editor.org/rfc/rfc9110"
    rfc9111 = "https://www.rfc-editor.org/rfc/rfc9111"
    talk = "https://www.youtube.com/watch?v=abc123&utm_source=newsletter"
    assert rows(source) == [
        (1, "https://dataintensive.net/", "Designing Data-Intensive Applications",
         "I keep coming back to Designing Data-Intensive Applications by Kleppmann."),
        (2, rfc9110, "HTTP spec", "The HTTP spec and the caching RFC are dense."),
        (3, rfc9110, "caching RFC", "The HTTP spec and the caching RFC are dense."),
        (4, rfc9111, rfc9111, f"See {rfc9111} too."),
        (5, talk, talk, f"A talk: {talk}."),
    ]  # fmt: skip
    assert doc.citations[4].key == "https://www.youtube.com/watch?v=abc123"


def test_load_markdown_internal_links_with_include_internal() -> None:
    doc = load_local_post(parse_source(str(POSTS / "reading-list.md")), include_internal=True)
    assert [c.url for c in doc.citations][5:] == [
        "https://notes.example.dev/2023/reading-list/",
        "https://notes.example.dev/about/",
        "https://notes.example.dev/drafts/note.md",
    ]


def test_markdown_without_base_drops_relative_links(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "post.md"
    path.write_text(
        "# Hello\n\nRead [this](https://a.example/x) and [that](../that/) and [me](/me).\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        doc = load_local_post(parse_source(str(path)))
    assert doc.url is None
    assert doc.title == "Hello"
    assert [(c.url, c.context) for c in doc.citations] == [
        ("https://a.example/x", "Read this and that and me.")
    ]
    assert "Dropped 2 relative link(s)" in caplog.text


def test_markdown_base_url_argument_beats_front_matter() -> None:
    source = parse_source(str(POSTS / "reading-list.md"))
    doc = load_local_post(source, base_url="https://other.example/p", include_internal=False)
    assert doc.url == "https://other.example/p"
    # Relative links now point into other.example (internal); notes.example.dev is external.
    assert [c.url for c in doc.citations][5:] == ["https://notes.example.dev/about/"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.html", b"", "post file is empty: "),
        ("blank.md", b"  \n\n", "post file is empty: "),
        ("garbage.html", bytes(range(256)) * 4, "post file is not HTML (binary data?): "),
        ("latin1.md", "# Smörgås\n".encode("latin-1"), "Markdown post is not UTF-8 (bad byte at offset 4): "),
        ("yaml.md", b"---\ntitle: [unclosed\n---\nbody\n", "bad front matter in "),
        ("list.md", b"---\n- a\n- b\n---\nbody\n", "bad front matter in "),
        ("url.md", b"---\nurl: /relative\n---\nbody\n", "front matter url: in "),
    ],
)  # fmt: skip
def test_load_local_post_errors(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SourceError) as info:
        load_local_post(parse_source(str(path)))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_load_local_post_refuses_urls_and_vanished_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="^not a local post"):
        load_local_post(Source("url", "https://example.com/"))
    with pytest.raises(SourceError, match="^post file not found"):
        load_local_post(Source("html", str(tmp_path / "gone.html")))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.from_regex(r"\A(https?|ftp)://[^/]{0,12}(/.{0,8})?\Z")))
@example("~\x00")  # expanduser's ValueError (embedded null byte), found by this test
def test_parse_source_only_raises_one_line_source_errors(arg: str) -> None:
    try:
        source = parse_source(arg)
    except SourceError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert source.kind == "url" or Path(source.location).is_file()
