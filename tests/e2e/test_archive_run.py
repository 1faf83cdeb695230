"""End to end: archive the mock blog post with the CLI, then read every output back."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import CliRun, run_cli

COLLECTION = "e2e"


@dataclass
class ArchivedRun:
    run: CliRun
    out: Path
    manifest: dict[str, Any]
    blog: str
    sites: str

    @property
    def collection_dir(self) -> Path:
        return self.out / "collections" / COLLECTION

    @property
    def warc_files(self) -> list[Path]:
        return sorted((self.collection_dir / "archive").glob("*.warc.gz"))

    def records(self) -> Iterator[Any]:
        for path in self.warc_files:
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    record.raw_body = record.raw_stream.read()
                    yield record

    def citations(self) -> dict[str, dict[str, Any]]:
        return {c["url"]: c for post in self.manifest["posts"] for c in post["citations"]}


@pytest.fixture(scope="module")
def archived(mocksite: Any, tmp_path_factory: pytest.TempPathFactory) -> ArchivedRun:
    tmp = tmp_path_factory.mktemp("archive-run")
    out = tmp / "out"
    post_url = f"{mocksite.blog}/2024/01/sources.html"
    run = run_cli(["archive", post_url, "--out", str(out), "--collection", COLLECTION, "--allow-private"], tmp)
    manifests = sorted((out / "collections" / COLLECTION / "manifests").glob("*.json"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(manifests) == 1, manifests
    manifest = json.loads(manifests[0].read_text(encoding="utf-8"))
    return ArchivedRun(run, out, manifest, mocksite.blog, mocksite.sites)


def test_no_connection_leaves_loopback(archived: ArchivedRun) -> None:
    assert archived.run.violations == []


def test_warcio_check_passes_on_every_file(archived: ArchivedRun) -> None:
    assert archived.warc_files
    assert not list((archived.collection_dir / "archive").glob("*.open"))
    for path in archived.warc_files:
        result = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", "-v", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # gzip member per record: the file is valid gzip as a whole too.
        gzip.decompress(path.read_bytes())


def test_every_response_has_its_request(archived: ArchivedRun) -> None:
    records = list(archived.records())
    assert records[0].rec_type == "warcinfo"
    responses = {r.rec_headers["WARC-Record-ID"]: r for r in records if r.rec_type == "response"}
    requests = [r for r in records if r.rec_type == "request"]
    linked = {r.rec_headers["WARC-Concurrent-To"] for r in requests}
    assert responses and set(responses) == linked
    for record in records:
        target = record.rec_headers.get("WARC-Target-URI")
        if target:
            assert not target.startswith("<")


def test_post_page_is_archived_too(archived: ArchivedRun) -> None:
    (post,) = archived.manifest["posts"]
    assert post["snapshot"]["status"] == "archived"
    assert post["snapshot"]["http_status"] == 200
    assert post["url"] == f"{archived.blog}/2024/01/sources.html"


def test_citations_are_the_article_links(archived: ArchivedRun) -> None:
    urls = set(archived.citations())
    sites = archived.sites
    assert f"{sites}/pages/plain.html" in urls
    assert f"{sites}/pages/query.html?a=1&b=two" in urls
    assert f"{sites}/pages/blogroll.html" not in urls
    assert f"{sites}/pages/footer.html" not in urls
    assert not any(url.startswith("mailto:") or "#" in url for url in urls)
    numbers = [c["n"] for c in archived.manifest["posts"][0]["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))


def test_manifest_validates_against_the_published_schema(archived: ArchivedRun) -> None:
    schema_path = Path(__file__).resolve().parents[2] / "archive" / "manifest.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.validate(archived.manifest, schema)
    assert archived.manifest["schema"] == "citearchive-manifest/1"


def test_statuses(archived: ArchivedRun) -> None:
    citations = archived.citations()
    sites = archived.sites
    expected = {
        "/pages/plain.html": ("archived", 200),
        "/redirect/start": ("archived", 200),
        "/missing.html": ("failed", 404),
        "/error.html": ("failed", 500),
        "/gzip.html": ("archived", 200),
        "/chunked.html": ("archived", 200),
        "/doc.pdf": ("archived", 200),
        "/cookies.html": ("archived", 200),
    }
    for path, (status, http_status) in expected.items():
        capture = citations[f"{sites}{path}"]["capture"]
        assert (capture["status"], capture["http_status"]) == (status, http_status), path
        if status == "failed":
            assert capture["reason"]
            # The error response is evidence of rot: it is stored and located.
            assert capture["warc_file"] and capture["record_id"]


def test_each_capture_location_holds_its_record(archived: ArchivedRun) -> None:
    archive_dir = archived.collection_dir / "archive"
    located = 0
    for citation in archived.citations().values():
        capture = citation["capture"]
        if capture["warc_file"] is None:
            continue
        with (archive_dir / capture["warc_file"]).open("rb") as stream:
            stream.seek(capture["offset"])
            record = next(iter(ArchiveIterator(stream)))
            assert record.rec_type == "response"
            assert record.rec_headers["WARC-Record-ID"] == capture["record_id"]
            assert record.rec_headers["WARC-Target-URI"] == capture["final_url"]
            assert record.rec_headers["WARC-Payload-Digest"] == capture["payload_digest"]
        located += 1
    assert located >= 8


def test_redirects_are_recorded_hop_by_hop(archived: ArchivedRun) -> None:
    sites = archived.sites
    capture = archived.citations()[f"{sites}/redirect/start"]["capture"]
    assert [(h["url"], h["http_status"]) for h in capture["hops"]] == [
        (f"{sites}/redirect/start", 302),
        (f"{sites}/redirect/middle", 301),
        (f"{sites}/pages/final.html", 200),
    ]
    assert capture["final_url"] == f"{sites}/pages/final.html"
    responses = {r.rec_headers["WARC-Target-URI"]: r for r in archived.records() if r.rec_type == "response"}
    assert responses[f"{sites}/redirect/start"].http_headers.get_statuscode() == "302"
    assert responses[f"{sites}/redirect/middle"].http_headers.get_statuscode() == "301"


def test_stored_bodies_are_the_bytes_sent(archived: ArchivedRun) -> None:
    from tests.mocksite.content import EXPECTED_BODIES

    responses = {r.rec_headers["WARC-Target-URI"]: r for r in archived.records() if r.rec_type == "response"}
    compared = 0
    for path, body in EXPECTED_BODIES.items():
        record = responses.get(f"{archived.sites}{path}")
        if record is None:
            continue
        assert record.raw_body == body, path
        digest = "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode()
        assert record.rec_headers["WARC-Payload-Digest"] == digest
        assert record.http_headers.get_header("Content-Length") == str(len(body))
        assert record.http_headers.get_header("Transfer-Encoding") is None
        compared += 1
    assert compared >= 6


def test_gzip_body_is_stored_encoded(archived: ArchivedRun) -> None:
    record = next(
        r for r in archived.records() if r.rec_type == "response" and r.rec_headers["WARC-Target-URI"].endswith("/gzip.html")
    )
    assert record.http_headers.get_header("Content-Encoding") == "gzip"
    assert b"Compressed page text" in gzip.decompress(record.raw_body)


def test_repeated_set_cookie_headers_are_kept(archived: ArchivedRun) -> None:
    record = next(
        r for r in archived.records() if r.rec_type == "response" and r.rec_headers["WARC-Target-URI"].endswith("/cookies.html")
    )
    cookies = [value for name, value in record.http_headers.headers if name.lower() == "set-cookie"]
    assert len(cookies) == 2


def test_request_record_keeps_the_query_string(archived: ArchivedRun) -> None:
    target = f"{archived.sites}/pages/query.html?a=1&b=two"
    request = next(r for r in archived.records() if r.rec_type == "request" and r.rec_headers["WARC-Target-URI"] == target)
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline.startswith("/pages/query.html?a=1&b=two ")
    assert request.http_headers.get_header("Host") == target.split("/")[2]
    assert request.http_headers.get_header("Accept-Encoding") == "gzip, deflate"
    assert "citearchive" in request.http_headers.get_header("User-Agent")


def test_response_records_carry_ip_and_protocol(archived: ArchivedRun) -> None:
    for record in archived.records():
        if record.rec_type == "response":
            assert record.rec_headers["WARC-IP-Address"] == "127.0.0.1"
            assert record.http_headers.protocol == "HTTP/1.1"


def test_index_is_sorted_and_names_every_archived_capture(archived: ArchivedRun) -> None:
    lines = (archived.collection_dir / "indexes" / "index.cdxj").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    indexed = {json.loads(line.split(" ", 2)[2])["url"] for line in lines}
    for url, citation in archived.citations().items():
        if citation["capture"]["status"] == "archived":
            assert citation["capture"]["final_url"] in indexed, url


def test_summary_table_is_printed(archived: ArchivedRun) -> None:
    assert "Citations:" in archived.run.stdout
    assert "Manifest:" in archived.run.stdout


def test_the_crawl_log_goes_to_its_file_not_the_terminal(archived: ArchivedRun) -> None:
    """The mock post has a 5xx Scrapy gives up on: still no line of Scrapy's log on stderr."""
    assert archived.run.stderr == ""
    log_path = archived.collection_dir / "logs" / f"{archived.manifest['run_id']}.log"
    log = log_path.read_text(encoding="utf-8")
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in log
    assert "[scrapy.downloadermiddlewares.retry] WARNING: Gave up retrying" in log
    assert archived.run.stdout.rstrip().splitlines()[-1].startswith(f"Log:       {log_path}")
