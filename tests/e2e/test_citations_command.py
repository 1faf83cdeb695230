"""`citearchive citations` and `--rules`, through the CLI against the mock site."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archive.manifest import validate_manifest
from tests.conftest import run_cli
from tests.mocksite.content import SOURCES_CITATIONS, SOURCES_PATH

COLLECTION = "rules"


def check_listing(listing: dict[str, Any]) -> None:
    """The structure ``--json`` promises (crawler/commands/citations.py)."""
    assert set(listing) == {"posts"}
    for post in listing["posts"]:
        assert {"source", "url", "title", "published", "status", "extraction", "citations"} <= set(post)
        assert post["status"] in ("read", "failed", "blocked", "skipped")
        if post["status"] == "read":
            assert set(post["extraction"]) == {"container", "fallback", "rule", "warnings"}
            assert isinstance(post["extraction"]["fallback"], bool)
            assert all(isinstance(w, str) for w in post["extraction"]["warnings"])
        for number, citation in enumerate(post["citations"], start=1):
            assert set(citation) - {"reason"} == {"n", "url", "anchor_text", "context"}
            assert citation["n"] == number
            assert all(isinstance(citation[k], str) for k in ("url", "anchor_text", "context"))


def test_citations_of_a_post_url_fetch_only_the_post(mocksite: Any, tmp_path: Path) -> None:
    mocksite.reset("sites")
    mocksite.reset("blog")
    out = tmp_path / "out"
    run = run_cli(["citations", mocksite.post_url, "--allow-private", "--json", "--out", str(out)], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.violations == []
    listing = json.loads(run.stdout)
    check_listing(listing)
    (post,) = listing["posts"]
    assert (post["source"], post["url"], post["title"]) == (mocksite.post_url, mocksite.post_url, "Sources and citations")
    assert post["published"] == "2024-01-15"  # the article's <time datetime>
    assert post["extraction"] == {"container": "article", "fallback": False, "rule": None, "warnings": []}
    assert [(c["url"], c["anchor_text"]) for c in post["citations"]] == [
        (mocksite.site_url(path), text) for path, text in SOURCES_CITATIONS
    ]
    assert "says exactly what it says" in post["citations"][0]["context"]
    # Nothing but the post was requested (no citation, requisite, probe or robots.txt), nothing written.
    assert mocksite.received("sites") == []
    (request,) = mocksite.received("blog")
    assert request["target"] == SOURCES_PATH
    assert dict(request["headers"])["User-Agent"].startswith("citearchive/")  # as a run sends it
    assert not out.exists()


def test_citations_of_local_files_as_text(mocksite: Any, tmp_path: Path) -> None:
    post = tmp_path / "post.md"
    post.write_text(
        "---\ntitle: Notes on sources\ndate: 2023-04-05\nurl: https://notes.example/2023/sources/\n---\n"
        "As [the survey](https://survey.example/2023) shows, and [a broken one](http://a..b/x).\n",
        encoding="utf-8",
    )
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Legacy <a href='https://old.example/'>page</a>.</p></body></html>", encoding="utf-8")
    run = run_cli(["citations", str(post), str(page), "--base", "https://legacy.example/"], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    text = run.stdout
    assert text.index("Notes on sources") < text.index("page.html")  # in the order given
    assert "published: 2023-04-05" in text
    assert "https://survey.example/2023" in text and "“the survey”" in text
    assert "skipped: malformed URL: 'a..b' is not a valid host name" in text
    # The legacy page has no article body: the listing says so.
    assert "container: body" in text
    assert "extraction: no article body recognised" in text

    listing = json.loads(run_cli(["citations", str(post), "--json"], tmp_path).stdout)
    check_listing(listing)
    broken = listing["posts"][0]["citations"][1]
    assert broken["url"] == "http://a..b/x" and broken["reason"].startswith("malformed URL:")


def test_a_post_that_cannot_be_fetched_exits_3(mocksite: Any, tmp_path: Path) -> None:
    run = run_cli(["citations", mocksite.site_url("/missing.html"), "--allow-private", "--json"], tmp_path)
    assert run.returncode == 3, run.stderr[-3000:]
    (post,) = json.loads(run.stdout)["posts"]
    assert post["status"] == "failed" and "404" in post["reason"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "bad.toml"
    rules.write_text('[[site]]\nmatch = "x.example"\ncontent = "div[[["\n', encoding="utf-8")
    page = tmp_path / "p.html"
    page.write_text("<p><a href='https://a.example/'>a</a></p>", encoding="utf-8")
    for args in (["citations", str(page), "--rules", str(rules)], ["archive", str(page), "--rules", str(rules)]):
        run = run_cli([*args, "--out", str(tmp_path / "out")], tmp_path)
        assert run.returncode == 2, run.stderr
        assert run.stderr.strip().count("\n") == 0
        assert f"{rules}:3: content: invalid CSS selector" in run.stderr
    run = run_cli(["citations", str(tmp_path / "nope.html")], tmp_path)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0


def test_archive_with_rules_records_the_rule_and_the_corrected_citations(mocksite: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    own = out / "collections" / COLLECTION / "rules.toml"  # the collection's own rules, applied when present
    own.parent.mkdir(parents=True)
    own.write_text(
        f'[[site]]\nmatch = "{mocksite.blog}/2024/"\nid = "mock-blog"\nexclude = ["{mocksite.sites}/missing.html"]\n',
        encoding="utf-8",
    )
    extra = tmp_path / "fixes.toml"
    extra.write_text(
        f'[[post]]\nurl = "{mocksite.post_url}"\n'
        f'cite = [{{ url = "{mocksite.sites}/pages/final.html", anchor_text = "the final page" }}]\n'
        f'exclude = ["{mocksite.sites}/error.html", "{mocksite.sites}/doc.pdf"]\n',
        encoding="utf-8",
    )
    expected = [
        mocksite.site_url(path)
        for path, _ in SOURCES_CITATIONS
        if path not in ("/missing.html", "/error.html", "/doc.pdf")
    ] + [mocksite.site_url("/pages/final.html")]

    listed = run_cli(
        ["citations", mocksite.post_url, "--allow-private", "--json", "--out", str(out),
         "--collection", COLLECTION, "--rules", str(extra)],
        tmp_path,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr[-3000:]
    (post,) = json.loads(listed.stdout)["posts"]
    assert [c["url"] for c in post["citations"]] == expected
    assert post["extraction"]["rule"] == f"{extra}:1, mock-blog"

    run = run_cli(
        ["archive", mocksite.post_url, "--allow-private", "--out", str(out), "--collection", COLLECTION,
         "--rules", str(extra), "--no-requisites"],
        tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (path,) = (out / "collections" / COLLECTION / "manifests").glob("*.json")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    validate_manifest(manifest)
    (archived,) = manifest["posts"]
    assert archived["extraction"] == {
        "container": "article",
        "fallback": False,
        "rule": f"{extra}:1, mock-blog",
        "warnings": [],
    }
    assert archived["published"] == "2024-01-15"
    assert [c["url"] for c in archived["citations"]] == expected
    added = archived["citations"][-1]
    assert (added["n"], added["anchor_text"], added["capture"]["status"]) == (len(expected), "the final page", "archived")

    # recrawl reads the posts again with the same rules (the collection's own, and --rules).
    again = run_cli(
        ["recrawl", "--allow-private", "--out", str(out), "--collection", COLLECTION, "--rules", str(extra),
         "-q"],
        tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    newest = max((out / "collections" / COLLECTION / "manifests").glob("*.json"), key=lambda p: p.stat().st_mtime)
    assert newest != path
    (recrawled,) = json.loads(newest.read_text(encoding="utf-8"))["posts"]
    assert recrawled["extraction"]["rule"] == f"{extra}:1, mock-blog"
    assert [c["url"] for c in recrawled["citations"]] == expected


def test_processes_children_apply_the_rules(mocksite: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    rules = tmp_path / "fixes.toml"
    rules.write_text(
        f'[[site]]\nmatch = "127.0.0.1"\ncontent = "main"\ndrop = ["p:has(> small)"]\n\n'
        f'[[post]]\nurl = "{mocksite.post_url}"\nexclude = ["{mocksite.sites}/utf8.html"]\n',
        encoding="utf-8",
    )
    run = run_cli(
        ["archive", mocksite.post_url, "--allow-private", "--out", str(out), "--collection", "procs",
         "--rules", str(rules), "--processes", "2", "--shard-by", "url", "--no-requisites", "-q"],
        tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    (path,) = (out / "collections" / "procs" / "manifests").glob("*.json")
    (post,) = json.loads(path.read_text(encoding="utf-8"))["posts"]
    assert post["extraction"]["rule"] == f"{rules}:6, {rules}:1"
    assert post["extraction"]["container"] == "main"
    assert [c["url"] for c in post["citations"]] == [
        mocksite.site_url(p) for p, _ in SOURCES_CITATIONS if p != "/utf8.html"
    ]
    assert {c["capture"]["status"] for c in post["citations"]} <= {"archived", "failed"}
