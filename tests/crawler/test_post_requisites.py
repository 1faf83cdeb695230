"""A post page's own requisites: requested with its item, shared with citations, credited across workers, resumed, tallied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse

from archive.collection import Collection
from archive.journal import Journal
from archive.manifest import compile_manifest, validate_manifest, write_manifest
from archive.manifeststream import write_manifest_from_journals
from archive.requisitetally import REQUISITE_NOT_ATTEMPTED, post_parent
from crawler.items import CaptureItem, PostItem, RequisitesItem
from crawler.resume import load_resume_state, run_is_complete
from crawler.spiders.citations import post_id_for
from tests.crawler.test_requisites import capture, credited, fetched, spider, split

POST = "http://blog.example/2024/post.html"
POST_HTML = (
    '<html><head><link rel="stylesheet" href="/style.css"></head>'
    '<body><img src="/logo.png"><article><p>See <a href="http://cited.example/a">a source</a>.</p></article></body></html>'
)
RUN = {"run_id": "r", "collection": "c", "started": "2024-01-01T00:00:00Z", "finished": "2024-01-01T00:00:01Z"}


def post_response(**meta: Any) -> HtmlResponse:
    request = Request(POST, meta={"archive_source": POST, **meta})
    return HtmlResponse(POST, body=POST_HTML.encode(), encoding="utf-8", request=request)


def test_the_post_item_carries_its_pages_requisites_then_their_requests() -> None:
    outputs = list(spider().parse_post(post_response()))
    item = outputs[0]
    assert isinstance(item, PostItem) and item.requisites is not None
    parent = post_parent(post_id_for(POST))
    assert item.requisites.to_journal() == {
        "kind": "requisites", "parent": parent, "found": ["http://blog.example/style.css", "http://blog.example/logo.png"],
        "roles": ["stylesheet", "image"], "outcomes": [],
    }  # fmt: skip
    requests, _ = split(outputs[1:])
    assert [r.url for r in requests] == ["http://blog.example/style.css", "http://blog.example/logo.png", "http://cited.example/a"]
    assert requests[0].meta["archive_requisite_of"] == parent


def test_only_the_process_owning_the_posts_requests_them_and_never_when_off() -> None:
    outputs = list(spider(ARCHIVE_SHARD="1/2").parse_post(post_response()))
    assert isinstance(outputs[0], PostItem) and outputs[0].requisites is None
    assert [o.url for o in outputs if isinstance(o, Request) and "blog.example" in o.url] == []
    outputs = list(spider(ARCHIVE_REQUISITES=False).parse_post(post_response()))
    assert outputs[0].requisites is None
    assert [o.url for o in outputs if isinstance(o, Request)] == ["http://cited.example/a"]


def test_a_requisite_shared_by_the_post_and_a_cited_page_is_requested_once() -> None:
    crawl = spider()
    requests, _ = split(list(crawl.parse_post(post_response())))
    cited = Request("http://blog.example/other", meta={"archive_key": "k", "archive_url": "http://blog.example/other"})
    page = HtmlResponse(cited.url, body=b'<link rel="stylesheet" href="/style.css">', encoding="utf-8", request=cited)
    outputs = list(crawl.parse_citation(page))
    assert isinstance(outputs[0], CaptureItem) and [o for o in outputs if isinstance(o, Request)] == []
    _, items = split(list(crawl.parse_requisite(fetched(requests[0], b"body{}", "text/css"))))
    assert credited(items) == [(post_parent(post_id_for(POST)), "style.css", "archived"), ("k", "style.css", "archived")]


def test_a_worker_settling_a_request_it_did_not_make_credits_its_first_parent() -> None:
    """Distributed mode: the shared queue hands a requisite request to any worker."""
    requests, _ = split(list(spider().parse_post(post_response())))
    other_worker = spider()
    _, items = split(list(other_worker.parse_requisite(fetched(requests[1]))))
    assert credited(items) == [(post_parent(post_id_for(POST)), "logo.png", "archived")]


def post_entries() -> list[dict[str, Any]]:
    parent = post_parent("p1")
    return [
        {"kind": "requisites", "parent": parent, "found": ["http://b/s.css", "http://b/l.png"], "roles": ["stylesheet", "image"], "outcomes": []},
        {"kind": "post", "post_id": "p1", "source": "http://b/post", "url": "http://b/post", "title": "T",
         "snapshot": capture("archived"), "citations": [{"n": 1, "url": "http://c/", "key": "k", "anchor_text": "c", "context": "c"}]},
        {"kind": "capture", "key": "k", "url": "http://c/", "capture": capture("archived")},
        {"kind": "requisites", "parent": "k", "found": ["http://b/s.css"], "outcomes": []},
        # Settled for the post only (another worker, or a stop between the two lines): the citation is credited too.
        {"kind": "requisites", "parent": parent, "found": ["http://b/bg.png"], "roles": ["image"],
         "outcomes": [{"url": "http://b/s.css", "role": "stylesheet", "capture": capture("archived")}]},
    ]  # fmt: skip


def test_the_manifest_reports_the_post_pages_requisites_after_its_snapshot(tmp_path: Path) -> None:
    manifest = compile_manifest(post_entries(), **RUN)
    validate_manifest(manifest)
    post = manifest["posts"][0]
    assert list(post)[:6] == ["source", "url", "title", "snapshot", "requisites", "citations"]
    assert post["requisites"] == {
        "archived": 1,
        "failed": [{"url": "http://b/l.png", "reason": REQUISITE_NOT_ATTEMPTED}, {"url": "http://b/bg.png", "reason": REQUISITE_NOT_ATTEMPTED}],
    }
    assert post["citations"][0]["requisites"] == {"archived": 1, "failed": []}
    assert len(post["citations"]) == 1
    journal = tmp_path / "run.journal"
    with Journal(journal) as writer:
        for entry in post_entries():
            writer.append(entry)
    write_manifest(tmp_path / "memory.json", manifest)
    write_manifest_from_journals(tmp_path / "stream.json", [journal], **RUN)
    assert (tmp_path / "stream.json").read_bytes() == (tmp_path / "memory.json").read_bytes()


def test_resume_knows_the_post_pages_missing_requisites_and_that_the_run_is_incomplete(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "c")
    collection.create()
    with Journal(collection.journal_path("r")) as writer:
        for entry in post_entries():
            writer.append(entry)
    state = load_resume_state(collection, "r")
    assert state.missing_requisites == {post_parent("p1"): [("http://b/l.png", "image"), ("http://b/bg.png", "image")]}
    write_manifest(collection.manifest_path("r"), compile_manifest(post_entries(), **RUN))
    assert not run_is_complete(collection, "r")
    done = [*post_entries(), {"kind": "requisites", "parent": post_parent("p1"), "found": [], "roles": [], "outcomes": [
        {"url": "http://b/l.png", "role": "image", "status": "archived", "reason": None},
        {"url": "http://b/bg.png", "role": "image", "status": "failed", "reason": "the server answered HTTP 404 Not Found"},
    ]}]  # fmt: skip
    write_manifest(collection.manifest_path("r"), compile_manifest(done, **RUN))
    assert run_is_complete(collection, "r")
    assert json.loads(collection.manifest_path("r").read_text())["posts"][0]["requisites"]["archived"] == 2


def test_a_resumed_post_requests_only_its_missing_requisites_and_not_its_page(tmp_path: Path) -> None:
    collection = Collection(tmp_path, "c")
    collection.create()
    entries = post_entries()
    entries[1]["source"] = entries[1]["url"] = POST
    entries[1]["post_id"] = post_id_for(POST)
    for entry in entries:
        if entry.get("parent", "").startswith("post:"):
            entry["parent"] = post_parent(post_id_for(POST))
    with Journal(collection.journal_path("r")) as writer:
        for entry in entries:
            writer.append(entry)
    state = load_resume_state(collection, "r")
    crawl = spider()
    crawl._requested_keys |= state.done_keys  # as start() does
    outputs = list(crawl._resumed_post(state.posts[post_id_for(POST)], state))
    requests, items = split(outputs)
    assert [r.url for r in requests] == ["http://b/l.png", "http://b/bg.png"]  # the cited page was done
    assert [r.headers["Accept"][:9] for r in requests] == [b"image/avi", b"image/avi"]
    assert all(isinstance(i, RequisitesItem) for i in items)
    p1 = list(spider(ARCHIVE_SHARD="1/2")._resumed_post(state.posts[post_id_for(POST)], state))
    assert [o for o in p1 if isinstance(o, Request) and o.url.startswith("http://b/")] == []
