"""Issue 7C: generated malformed HTML through citation extraction; no exception escapes.

``CITEARCHIVE_FUZZ_HTML`` sets the number of inputs (default 10,000). The time per input is
reported (the goal is a 99th percentile under 1 s), not asserted: speed lives in benchmarks.
"""

from __future__ import annotations

import os
import statistics
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.citations import extract_post

EXAMPLES = int(os.environ.get("CITEARCHIVE_FUZZ_HTML", "10000"))
TIMES: list[float] = []

TAGS = ["a", "p", "div", "article", "main", "nav", "aside", "footer", "blockquote", "q", "figure", "base",
        "script", "style", "table", "td", "li", "ul", "section", "header", "span", "br", "!--", "![CDATA["]  # fmt: skip
ATTRS = ["href", "cite", "class", "id", "role", "style", "src", "srcset", "data-src", "hidden", "rel"]
VALUES = st.one_of(
    st.sampled_from(["https://example.org/a?b=1#c", "/rel", "../up", "javascript:alert(1)", "mailto:x@y",
                     "http://[::1", "http://%zz", "//cdn.example", "#frag", "https://ex.org/\u00e5\u00e4\u00f6",
                     "entry-content", "comments", "share", "navigation", "display:none", ""]),  # fmt: skip
    st.text(max_size=40),
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@st.composite
def fragments(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 4))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            attrs = draw(st.lists(st.tuples(st.sampled_from(ATTRS), VALUES), max_size=3))
            quote = draw(st.sampled_from(['"', "'", ""]))
            rendered = "".join(f" {name}={quote}{value}{quote}" for name, value in attrs)
            parts.append(f"<{tag}{rendered}{draw(st.sampled_from(['>', '', '/>', ' >']))}")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(TEXT))
        elif kind == 3:
            parts.append(draw(st.sampled_from(["&amp;", "&#x0;", "&#99999999;", "&unknown", "<", ">", "\x00", "\ufeff"])))
        else:
            parts.append(draw(st.sampled_from(["https://bare.example/x.", "(https://paren.example/a_(b))", "www.x"])))
    return "".join(parts)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(html=fragments(), base=st.sampled_from([None, "https://blog.example/2024/post/", "http://127.0.0.1:8000/"]))
def test_extraction_never_raises(html: str, base: str | None) -> None:
    started = time.perf_counter()
    document = extract_post(html, base)
    TIMES.append(time.perf_counter() - started)
    for citation in document.citations:
        assert citation.url.startswith(("http://", "https://"))
        assert len(citation.context) <= 300


def test_report_time_distribution() -> None:
    """Runs after the fuzz test in this module (pytest keeps file order)."""
    if not TIMES:
        return
    ordered = sorted(TIMES)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"\nFuzzed extraction: {len(ordered)} inputs, 0 exceptions; median {statistics.median(ordered) * 1000:.2f} ms, "
        f"p99 {p99 * 1000:.2f} ms, max {ordered[-1] * 1000:.1f} ms (goal: p99 under 1 s)"
    )
