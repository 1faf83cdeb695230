"""Rules files (crawler/rules.py): reading, one-line errors with PATH:LINE, and what they do to extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.citations import extract_post
from crawler.rules import Rules, RulesError, load_rules, rules_paths

POST = "https://blog.example.com/2024/05/a-post/"

PAGE = """<html><body>
<main>
  <div class="post-body">
    <p>The study by <a href="https://journal.example/paper">Smith</a> is here.</p>
    <div class="promo"><p>Subscribe at <a href="https://letters.example/join">our letter</a>.</p></div>
    <p>See <a href="https://ads.example.net/x">an ad</a> and <a href="https://blog.example.com/other/">my older post</a>.</p>
  </div>
  <aside><p>Further reading: <a href="https://doi.org/10.1000/182">the DOI handbook</a>.</p></aside>
  <div class="sidebar-box"><a href="https://blogroll.example/">friend</a></div>
</main>
</body></html>"""


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def urls(rules: Rules | None) -> list[str]:
    return [c.url for c in extract_post(PAGE, POST, rules=rules).citations]


def test_without_rules_the_page_is_read_as_usual() -> None:
    assert urls(None) == [
        "https://journal.example/paper",
        "https://letters.example/join",
        "https://ads.example.net/x",
        "https://blogroll.example/",
    ]


def test_content_drop_include_exclude_and_cite(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
# corrections for blog.example.com
[[site]]
match = "blog.example.com"
content = "div.post-body"
drop = ["div.promo"]
include = ["https://doi.org/*", "https://blog.example.com/other/"]
exclude = ["ads.example.net"]

[[post]]
url = "https://blog.example.com/2024/05/a-post/"
cite = [{ url = "https://archive.example/report.pdf", anchor_text = "the report", context = "Mentioned in a talk." }]
""",
    )
    rules = load_rules([path])
    document = extract_post(PAGE, POST, rules=rules)
    assert [(c.n, c.url, c.anchor_text) for c in document.citations] == [
        (1, "https://journal.example/paper", "Smith"),
        (2, "https://blog.example.com/other/", "my older post"),  # internal, but included
        (3, "https://archive.example/report.pdf", "the report"),  # added by hand, after the page's own
    ]
    assert document.citations[2].context == "Mentioned in a talk."
    assert document.extraction is not None
    assert document.extraction.container == "div.post-body"
    assert document.extraction.fallback is False
    assert document.extraction.rule == f"{path}:10, {path}:3"  # the post's rule, then the site's


def test_include_reaches_into_skipped_boilerplate(tmp_path: Path) -> None:
    path = write(tmp_path, '[[site]]\nmatch = "*"\ninclude = ["doi.org"]\nid = "dois"\n')
    document = extract_post(PAGE, POST, rules=load_rules([path]))
    assert [c.url for c in document.citations] == [*urls(None)[:3], "https://doi.org/10.1000/182", urls(None)[3]]
    doi = document.citations[3]
    assert doi.anchor_text == "the DOI handbook"
    assert "Further reading" in doi.context
    assert document.extraction is not None and document.extraction.rule == "dois"


def test_a_content_selector_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, '[[site]]\nmatch = "https://blog.example.com/2024/"\ncontent = "div.nothing-here"\n')
    document = extract_post(PAGE, POST, rules=load_rules([path]))
    assert [c.url for c in document.citations] == urls(None)
    assert document.extraction is not None
    (warning,) = document.extraction.warnings
    assert f"{path}:1" in warning and "div.nothing-here" in warning and "matched nothing" in warning


def test_the_most_specific_content_wins_and_later_files_win_ties(tmp_path: Path) -> None:
    first = write(tmp_path, '[[site]]\nmatch = "example.com"\ncontent = "aside"\n', "a.toml")
    second = write(
        tmp_path,
        '[[site]]\nmatch = "blog.example.com"\ncontent = "main"\n\n[[site]]\nmatch = "blog.example.com"\ncontent = "div.post-body"\n',
        "b.toml",
    )
    rules = load_rules([first, second])
    document = extract_post(PAGE, POST, rules=rules)
    assert document.extraction is not None and document.extraction.container == "div.post-body"
    other = extract_post(PAGE, "https://www.example.com/x", rules=rules)
    assert other.extraction is not None and other.extraction.container == "aside"
    assert rules.for_post("https://elsewhere.example/") is None


def test_rules_paths_put_the_collections_file_first(tmp_path: Path) -> None:
    own = tmp_path / "collections" / "mine" / "rules.toml"
    own.parent.mkdir(parents=True)
    own.write_text("", encoding="utf-8")
    extra = write(tmp_path, "")
    assert rules_paths(tmp_path, "mine", [extra, own]) == [own, extra]
    assert rules_paths(tmp_path, "other", [extra]) == [extra]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[site]]\nmatch = "x.example"\ncontent = "div[[["\n', ":3: content: invalid CSS selector 'div[[['"),
        ('[[site]]\nmatch = "x.example"\n\n\ncolour = "red"\n', ":5: unknown key 'colour' in [[site]]"),
        ('[[site]]\ncontent = "main"\n', ":1: [[site]] needs match"),
        ('[[site]]\nmatch = "not a domain/"\n', ":2: match 'not a domain/' is neither a domain"),
        ('[site]\nmatch = "x.example"\n', ":1: 'site' must be written [[site]]"),
        ('[[post]]\nurl = "/relative/"\n', ":2: url must be the post's absolute http(s) URL"),
        ('[[post]]\nurl = "https://x.example/p"\ncite = [{ url = "ftp://x" }]\n', ":3: cite: url must be an absolute http(s) URL"),
        ('[[site]]\nmatch = "x.example"\nexclude = ["ftp://x/*"]\n', ":3: exclude: 'ftp://x/*' is not an http(s) URL glob"),
        ('[[site]]\nmatch = "x.example"\ndrop = "div"\ninclude = [1]\n', ":4: include must be a list of non-empty strings"),
        ('[[site]]\nmatch = "x.example\n', ":2: invalid TOML"),
        ("[[rule]]\n", ":1: unknown table 'rule'"),
    ],
)
def test_a_bad_rules_file_is_one_line_naming_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as caught:
        load_rules([path])
    error = str(caught.value)
    assert "\n" not in error
    assert error.startswith(str(path))
    assert message in error, error


def test_a_missing_rules_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"^cannot read rules file .*missing\.toml: No such file"):
        load_rules([tmp_path / "missing.toml"])
