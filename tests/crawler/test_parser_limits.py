"""lxml's silent limits: deep nesting and huge text nodes must not cut citations or requisites, and a cut says so."""

from __future__ import annotations

import logging

import pytest

from crawler.citations import extract_post
from crawler.htmlparse import MAX_DEPTH, parse_document
from crawler.requisites import html_requisites

POST = "https://legacy.example/1999/page.html"


def unclosed_font_page(paragraphs: int) -> str:
    """A legacy page: each paragraph opens a <font> it never closes, so the tree nests one deeper each time."""
    body = "".join(
        f'<p><font face="Arial">Paragraph {i} cites <a href="https://source{i}.example/">source {i}</a>.'
        for i in range(paragraphs)
    )
    return f"<html><body>{body}</body></html>"


def test_400_unclosed_font_paragraphs_keep_every_citation() -> None:
    document = extract_post(unclosed_font_page(400), POST)
    assert [c.url for c in document.citations] == [f"https://source{i}.example/" for i in range(400)]
    assert document.extraction is not None
    assert document.extraction.warnings == ()


def test_a_link_300_levels_deep_and_the_links_after_it_are_kept() -> None:
    depth = 300
    html = (
        "<html><body><article>"
        + "<div>" * depth
        + '<a href="https://deep.example/">deep</a>'
        + "</div>" * depth
        + "".join(f'<p>After, <a href="https://after{i}.example/">after {i}</a>.</p>' for i in range(5))
        + "</article></body></html>"
    )
    document = extract_post(html, POST)
    urls = [c.url for c in document.citations]
    assert urls == ["https://deep.example/"] + [f"https://after{i}.example/" for i in range(5)]
    assert document.extraction is not None and document.extraction.container == "article"


def test_a_12_mb_style_element_loses_no_citation_nor_requisite() -> None:
    style = "<style>" + ".x{color:red}\n" * (12 * 1024 * 1024 // 14) + "</style>"
    assert len(style) > 12_000_000
    html = (
        f"<html><head>{style}<link rel=stylesheet href=/after.css></head><body><article>"
        '<p>See <a href="https://cited.example/">this</a>.</p><img src="/after.png"></article></body></html>'
    )
    document = extract_post(html, POST)
    assert [c.url for c in document.citations] == ["https://cited.example/"]
    assert document.extraction is not None and document.extraction.warnings == ()
    urls = {r.url for r in html_requisites(html, POST)}
    assert {"https://legacy.example/after.css", "https://legacy.example/after.png"} <= urls


def test_nesting_past_libxml2s_hard_limit_is_a_warning_not_silence(caplog: pytest.LogCaptureFixture) -> None:
    depth = MAX_DEPTH + 100
    html = (
        '<html><body><article><p><a href="https://before.example/">before</a></p>'
        + "<div>" * depth
        + '<a href="https://deep.example/">deep</a>'
        + "</div>" * depth
        + "</article></body></html>"
    )
    parsed = parse_document(html.encode())
    assert len(parsed.warnings) == 1
    assert f"nested deeper than {MAX_DEPTH} levels" in parsed.warnings[0]
    assert "line 1, column" in parsed.warnings[0]
    document = extract_post(html, POST)
    assert document.extraction is not None
    assert document.extraction.warnings == tuple(parsed.warnings)
    with caplog.at_level(logging.WARNING, logger="crawler.requisites"):
        html_requisites(html, POST)
    assert any("nested deeper than" in r.getMessage() and POST in r.getMessage() for r in caplog.records)


def test_an_ordinary_page_has_no_warning_and_names_its_container() -> None:
    html = (
        "<html><body><nav><a href='https://nav.example/'>nav</a></nav>"
        "<article id='post-67202' class='post-67202 post'><p>See <a href='https://a.example/'>a</a>.</p></article>"
        "</body></html>"
    )
    document = extract_post(html, POST)
    assert document.extraction is not None
    assert document.extraction.to_dict() == {
        "container": "article#post-67202",
        "fallback": False,
        "rule": None,
        "warnings": [],
    }


def test_a_page_without_an_article_body_is_marked_fallback() -> None:
    html = "<html><body><p>See <a href='https://a.example/'>a</a>.</p></body></html>"
    document = extract_post(html, POST)
    assert document.extraction is not None
    assert (document.extraction.container, document.extraction.fallback) == ("body", True)
