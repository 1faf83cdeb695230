"""End to end: a post with broken links beside good ones is archived whole; each broken one is skipped with why."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import main
from tests.conftest import CliRun, run_cli
from tests.mocksite.content import BROKEN_BARE, BROKEN_CITE, BROKEN_HREFS, BROKEN_LINKS_PATH, LONG_PATH

COLLECTION = "badlinks"
REPO_ROOT = Path(__file__).resolve().parents[2]
LABEL = "(a label is empty or longer than 63 characters)"
#: The reason each broken href of the post gets, in BROKEN_HREFS order.
HREF_REASONS = [
    "malformed URL: '%zz' is not a valid host name",
    "malformed URL: '[::1' is not a valid IPv6 address",
    "malformed URL: the port '99999' is not a number from 0 to 65535",
    "malformed URL: '256.1.1.1' is not a valid IPv4 address",
    "malformed URL: 'ex ample.org' is not a valid host name",
    f"malformed URL: 'a..b' is not a valid host name {LABEL}",
    "malformed URL: '[zz]' is not a valid IPv6 address",
    f"malformed URL: '{'h' * 39}'… is not a valid host name {LABEL}",
]


@dataclass
class Run:
    run: CliRun
    out: Path
    manifest: dict[str, Any]
    blog: str
    sites: str

    @property
    def citations(self) -> list[dict[str, Any]]:
        (post,) = self.manifest["posts"]
        return list(post["citations"])

    def records(self) -> list[Any]:
        found = []
        for path in sorted((self.out / "collections" / COLLECTION / "archive").glob("*.warc.gz")):
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    record.raw_body = record.content_stream().read()
                    found.append(record)
        return found


@pytest.fixture(scope="module")
def archived(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("badlinks")
    out = tmp / "out"
    post_url = f"{mocksite.blog}{BROKEN_LINKS_PATH}"
    args = ["archive", post_url, "--out", str(out), "--collection", COLLECTION, "--allow-private"]
    run = run_cli([*args, "--retries", "0", "--delay", "0.05"], tmp)
    (manifest_path,) = (out / "collections" / COLLECTION / "manifests").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Run(run, out, manifest, mocksite.blog, mocksite.sites)


def test_the_run_ends_well_without_a_traceback_or_an_error_line(archived: Run) -> None:
    assert archived.run.returncode == 0, archived.run.stderr[-3000:]
    assert archived.run.violations == []
    output = archived.run.stdout + archived.run.stderr
    assert "Traceback" not in output and "Unhandled error" not in output
    assert not re.search(r"\] (ERROR|CRITICAL):", output), [line for line in output.splitlines() if "ERROR" in line]


def test_the_manifest_validates_against_the_published_schema(archived: Run) -> None:
    schema = json.loads((REPO_ROOT / "archive" / "manifest.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(archived.manifest, schema)
    (post,) = archived.manifest["posts"]
    assert post["snapshot"]["status"] == "archived" and post["title"] == "Broken links"


def test_each_citation_in_its_place_with_its_outcome(archived: Run) -> None:
    sites = archived.sites
    expected = [(f"{sites}/pages/plain.html", "the plain page", "archived", None)]
    for n, (href, reason) in enumerate(zip(BROKEN_HREFS, HREF_REASONS, strict=True), 1):
        url = "http:" + href if href.startswith("//") else href  # resolved against the post's http:// URL
        expected.append((url, f"bad link {n}", "skipped", reason))
    expected += [
        (BROKEN_CITE, "A quotation from a source with a broken address.", "skipped",
         "malformed URL: '%41%zz' is not a valid host name"),
        (BROKEN_BARE, BROKEN_BARE, "skipped", "malformed URL: '999.999.999.999' is not a valid IPv4 address"),
        (f"{sites}/redirect/bad-host", "a redirect to a bad host", "failed",
         f"redirected to a malformed URL 'http://a..b/x': 'a..b' is not a valid host name {LABEL}"),
        (f"{sites}/pages/bad-requisites.html", "a page with bad images", "archived", None),
        (f"{sites}{LONG_PATH}", "a very long address", "skipped",
         f"not fetched: the URL is {len(sites + LONG_PATH)} characters long, over URLLENGTH_LIMIT (2083); "
         "raise it (-s URLLENGTH_LIMIT=N) to fetch it"),
        (f"{sites}/pages/final.html", "the final page", "archived", None),
    ]  # fmt: skip
    got = [(c["url"], c["anchor_text"], c["capture"]["status"], c["capture"]["reason"]) for c in archived.citations]
    assert got == expected
    assert [c["n"] for c in archived.citations] == list(range(1, len(expected) + 1))
    assert not any(c["url"].startswith(("mailto:", "javascript:", "#")) for c in archived.citations)


def test_a_skipped_citation_reads_like_any_other(archived: Run) -> None:
    citation = archived.citations[1]
    assert citation["context"] == "Broken number 1: bad link 1 in a sentence."
    capture = citation["capture"]
    assert {k: v for k, v in capture.items() if k not in ("status", "reason")} == dict.fromkeys(
        ("http_status", "final_url", "timestamp", "warc_file", "offset", "length", "record_id", "payload_digest", "mime")
    )
    redirect = archived.citations[11]["capture"]
    assert [hop["http_status"] for hop in redirect["hops"]] == [302]  # the hop is archived; the target is not


def test_the_page_with_bad_requisites_keeps_its_good_one(archived: Run) -> None:
    requisites = archived.citations[12]["requisites"]
    assert requisites["archived"] == 1
    assert sorted(f["reason"] for f in requisites["failed"]) == [
        "malformed URL: '%zz' is not a valid host name",
        "malformed URL: '[::1' is not a valid IPv6 address",
        f"malformed URL: 'a..b' is not a valid host name {LABEL}",
    ]


def test_the_warcs_hold_the_good_pages_and_nothing_of_the_bad(archived: Run, mocksite: Any) -> None:
    responses = {r.rec_headers["WARC-Target-URI"]: r for r in archived.records() if r.rec_type == "response"}
    sites = archived.sites
    for path, text in (("/pages/plain.html", b"The plain page text."), ("/pages/final.html", b"Final destination"),
                       ("/pages/bad-requisites.html", b"Bad requisites"), ("/image.png", b"\x89PNG")):  # fmt: skip
        assert text in responses[f"{sites}{path}"].raw_body
    assert responses[f"{sites}/redirect/bad-host"].http_headers.get_statuscode() == "302"
    assert b"Broken number 1" in responses[f"{archived.blog}{BROKEN_LINKS_PATH}"].raw_body
    assert not [uri for uri in responses if not uri.startswith((sites, archived.blog))]
    assert not [r for r in mocksite.received() if "q=xxx" in r["target"]]  # the long URL was never requested


def test_the_summary_lists_the_reasons(archived: Run) -> None:
    stdout = archived.run.stdout
    assert "Citations: 3 archived, 1 failed, 11 skipped" in stdout
    assert "↳ malformed URL: '%zz' is not a valid host name" in stdout


def test_a_feed_entry_with_a_malformed_link_costs_only_itself(mocksite: Any, tmp_path: Path) -> None:
    entries = [("Good", f"{mocksite.blog}/2024/01/loopback.html"), ("Bad", "http://%zz/post"), ("Bad port", "http://x.example:99999/")]
    items = "".join(f"<item><title>{title}</title><link>{link}</link></item>" for title, link in entries)
    feed = tmp_path / "blog.rss"
    feed.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>{items}</channel></rss>')
    out = tmp_path / "out"
    run = run_cli(["archive", str(feed), "--out", str(out), "--collection", COLLECTION, "--allow-private"], tmp_path)
    assert run.returncode == 3, run.stderr[-3000:]  # a post could not be fetched: the bad entry
    assert "Traceback" not in run.stdout + run.stderr and run.violations == []
    (path,) = (out / "collections" / COLLECTION / "manifests").glob("*.json")
    posts = json.loads(path.read_text(encoding="utf-8"))["posts"]
    outcomes = {p["url"]: (p["snapshot"]["status"], p["snapshot"]["reason"], p["feed"]) for p in posts}
    assert outcomes == {  # in the order they landed: the skipped entries did not wait for a fetch
        f"{mocksite.blog}/2024/01/loopback.html": ("archived", None, str(feed)),
        "http://%zz/post": ("skipped", "malformed URL: '%zz' is not a valid host name", str(feed)),
        "http://x.example:99999/": ("skipped", "malformed URL: the port '99999' is not a number from 0 to 65535", str(feed)),
    }
    (good,) = [p for p in posts if p["snapshot"]["status"] == "archived"]
    assert [c["capture"]["status"] for c in good["citations"]] == ["archived"]


def test_the_cli_refuses_a_url_list_line_it_cannot_request_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("http://127.0.0.1:9/one\nhttp://256.1.1.1/post\n", encoding="utf-8")  # refused before any crawl
    assert main(["archive", str(urls), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{urls}, line 2: malformed URL http://256.1.1.1/post: '256.1.1.1' is not a valid IPv4 address" in err


def test_the_report_does_not_call_a_malformed_link_alive(archived: Run, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    run = run_cli(["report", "--out", str(archived.out), "--collection", COLLECTION, "--format", "json", "-o", str(target)], tmp_path)
    assert run.returncode == 5, run.stderr[-2000:]  # new rot: the broken links, at risk from the first run
    citations = {c["url"]: c for c in json.loads(target.read_text(encoding="utf-8"))["posts"][0]["citations"]}
    broken = citations["http://%zz/"]
    assert broken["state"] == "at-risk" and "malformed URL: '%zz' is not a valid host name" in broken["evidence"][0]
    assert citations[f"{archived.sites}/pages/plain.html"]["state"] == "alive"
