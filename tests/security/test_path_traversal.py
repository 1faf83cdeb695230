"""Issue 7G: path traversal against every route of `citearchive replay` that reads files.

Canary files sit outside the collections root (in the test's tmp dir, in OUT, in /tmp); symlinks inside a
collection point at them; index lines name files outside ``archive/``. Several hundred encodings of
``../`` (percent, double and triple encoding, overlong UTF-8, fullwidth and leader dots, backslashes,
NUL, ``;``), absolute and ``file:`` paths go, as raw bytes on a socket, to each landing and archive
route. A canary in any response (status line, headers or body) is an escape; there must be none.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.capture import Capture
from archive.cdxj import index_warc_files
from archive.writer import ArchiveWriter
from tests.replayserver import ReplayServer, replay_server
from tests.security.rawhttp import RawReply, raw_get
from tests.security.warcmutants import write_base

COLLECTION = "cites"
TS = "20240506070001"
DEPTH = 16  # more `../` than any of the test's directories is deep: every walk up ends at /

DOTS = [
    "..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%25252e%25252e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae",
    "%c0%2e%c0%2e", "%u002e%u002e", "%ef%bc%8e%ef%bc%8e", "\uff0e\uff0e", "%e2%80%a4%e2%80%a4", "\u2025", "....",
    "...", "..%00", "..;", "%2e%2e%3b",
]  # fmt: skip
SEPS = [
    "/", "%2f", "%2F", "%252f", "%25252f", "\\", "%5c", "%5C", "%255c", "%c0%af", "%e0%80%af", "%c1%9c",
    "%ef%bc%8f", "%e2%88%95", "//", "/./", "\\/", "%2f%2f",
]  # fmt: skip
LANDING_ROUTES = [
    "/{p}", "/c/{p}", "/c/{p}/p1", "/c/cites/{p}", "/c/cites/p1/{p}", "/api/{p}", "/api/collections/{p}",
    "/static/{p}", "/templates/{p}", "/c/cites/p1?file={p}",
]  # fmt: skip
ARCHIVE_ROUTES = [
    "/{p}", "/{p}/20240506070001id_/http://site.example/page0.html", "/static/{p}", "/static/_/cites/{p}",
    "/static/_/{p}/x.css", "/cites/{p}", "/cites/20240506070001id_/{p}", "/cites/20240506070001mp_/http://site.example/{p}",
    "/cites/timemap/link/{p}", "/cites/cdx?url={p}", "/cites/templates/{p}", "/cites/20240506070001id_/file:///{p}",
]  # fmt: skip


@dataclass(frozen=True)
class Site:
    out: Path
    tokens: list[bytes]  # one per canary file
    canaries: list[Path]  # the files outside the collections root
    server: ReplayServer

    @property
    def landing_port(self) -> int:
        return int(self.server.landing.rsplit(":", 1)[1])

    @property
    def archive_port(self) -> int:
        return int(self.server.archive.rsplit(":", 1)[1])

    def leaked(self, reply: RawReply) -> list[str]:
        found = [token.decode() for token in self.tokens if token in reply.raw]
        return found + (["/etc/passwd"] if b"root:x:0:0" in reply.raw else [])


def payloads(targets: list[str]) -> list[str]:
    """Every ``dots`` x ``sep`` walk up to one of ``targets`` (paths from /), then the special forms."""
    walks = []
    for n, (dots, sep) in enumerate((d, s) for d in DOTS for s in SEPS):
        target = targets[n % len(targets)].lstrip("/")
        walks.append((dots + sep) * DEPTH + target.replace("/", sep))
    first, second = targets[0], targets[1]
    specials = [
        first, first.lstrip("/"), "/" + first, "%2f" + first.lstrip("/").replace("/", "%2f"), "//" + first,
        "/etc/passwd", "etc/passwd", "%2fetc%2fpasswd", "\\etc\\passwd", "C:\\Windows\\win.ini", "\\\\127.0.0.1\\c$\\x",
        "file://" + first, "file:" + first, "file://localhost" + first, "file:%2f%2f" + first.replace("/", "%2f"),
        "file:///etc/passwd", "FILE:///etc/passwd", "file:\\\\\\etc\\passwd",
        "%00", "ok.txt%00", "..%00/" * DEPTH + "etc/passwd", "ok.txt%00/../" * 2, "canary%00.css", "%2500",
        "../" * DEPTH + second.lstrip("/") + "%00.css", "..%2500/" * DEPTH + "etc/passwd",
        "....//" * DEPTH + "etc/passwd", "..././" * DEPTH + "etc/passwd", ".../.../" * DEPTH + "etc/passwd",
        "%2e%2e%2f" * DEPTH + "etc%2fpasswd", "%2e%2e%5c" * DEPTH + "etc%5cpasswd", ".%2e/" * DEPTH + "etc/passwd",
        "..%c0%af" * DEPTH + "etc%c0%afpasswd", "%%32%65%%32%65/" * DEPTH + "etc/passwd",
        "..%u2215" * DEPTH + "etc%u2215passwd", "..%ff/" * DEPTH + "etc/passwd", "..%0a/" * DEPTH + "etc/passwd",
        "..%0d%0a/" * DEPTH + "etc/passwd", ".." + "/" * 40 + "etc/passwd", "/" * 300 + "etc/passwd",
        "./" * 200 + "../" * DEPTH + "etc/passwd", "../" * 400 + "etc/passwd", "%2e%2e" * 2 + "/",
        "proc/self/environ", "../" * DEPTH + "proc/self/environ", "../" * DEPTH + "proc/self/cmdline",
    ]  # fmt: skip
    return walks + specials


def request_targets(canary_paths: list[str]) -> Iterator[tuple[str, bytes]]:
    """(origin, raw request target) for every route x payload."""
    variants = payloads(canary_paths)
    for origin, routes in (("landing", LANDING_ROUTES), ("archive", ARCHIVE_ROUTES)):
        for route in routes:
            for payload in variants:
                yield origin, route.replace("{p}", payload).encode("utf-8")


def write_outside_warc(directory: Path, token: str) -> str:
    """A real WARC outside the collections, whose one page holds ``token``."""
    capture = Capture(
        url="http://site.example/outside", method="GET", status=200, protocol="HTTP/1.1",
        headers=[("Content-Type", "text/html")], body=f"<html><body><p>{token}</p></body></html>".encode(),
        request_headers=[], fetched_at=datetime(2024, 5, 6, 7, 0, 1, tzinfo=UTC),
    )  # fmt: skip
    with ArchiveWriter(directory, fsync=False) as writer:
        writer.write_capture(capture)
    return writer.closed_files[0]


def index_line(url: str, filename: str, offset: int = 0, length: int = 500) -> str:
    key = url.replace("http://site.example/", "example,site)/")
    fields = {"url": url, "mime": "text/html", "status": "200", "length": str(length), "offset": str(offset), "filename": filename}
    return f"{key} {TS} {json.dumps(fields)}"


def build_out(tmp: Path, tokens: list[str], canaries: list[Path]) -> Path:
    """OUT with one collection, the canaries' symlinks inside it and index lines pointing out of it."""
    out = tmp / "out"
    root = out / "collections" / COLLECTION
    for sub in ("archive", "indexes", "manifests", "static"):
        (root / sub).mkdir(parents=True)
    base = write_base(tmp / "base")
    (root / "archive" / "base.warc.gz").write_bytes(base.gz)
    (root / "static" / "ok.txt").write_text("INSIDE-STATIC-FILE\n")
    local, _in_out, in_tmp = canaries
    # Symlinks inside the collection (and pywb's OUT/static) to files and directories outside.
    (root / "static" / "link.txt").symlink_to(local)
    (root / "static" / "up").symlink_to(tmp, target_is_directory=True)
    (root / "static" / "tmpdir").symlink_to(in_tmp.parent, target_is_directory=True)
    (out / "static").mkdir()
    (out / "static" / "link.txt").symlink_to(in_tmp)
    (root / "archive" / "link.warc.gz").symlink_to(in_tmp)
    (tmp / "elsewhere").mkdir()
    outside = write_outside_warc(tmp / "elsewhere", tokens[0])
    (root / "archive" / "outside.warc.gz").symlink_to(tmp / "elsewhere" / outside)
    evil_manifest = tmp / "outside-manifest.json"
    evil_manifest.write_text(json.dumps({"run_id": "evil", "finished": "2099", "posts": [{"post_id": "leak", "title": tokens[0], "url": "http://x.example/"}]}))
    (root / "manifests" / "zz-link.json").symlink_to(evil_manifest)
    # The index: the real captures, then lines whose file is a symlink or a path out of archive/.
    lines = index_warc_files(root / "archive", ["base.warc.gz"])
    lines.append(index_line("http://site.example/linked", "link.warc.gz"))
    # The symlinked WARC's own lines, as an indexer following the symlink would write them.
    lines += [line.replace(json.dumps(outside), '"outside.warc.gz"') for line in index_warc_files(tmp / "elsewhere", [outside])]
    up = "../" * DEPTH
    lines.append(index_line("http://site.example/idx-relative", up + str(in_tmp).lstrip("/")))
    lines.append(index_line("http://site.example/idx-absolute", str(local)))
    lines.append(index_line("http://site.example/idx-encoded", "%2e%2e/" * DEPTH + str(in_tmp).lstrip("/")))
    (root / "indexes" / "index.cdxj").write_text("".join(f"{line}\n" for line in sorted(lines)))
    snapshot = {"status": "archived", "timestamp": TS, "warc_file": "base.warc.gz", "offset": base_offset(lines)}
    posts = [
        {"post_id": "p1", "url": "http://site.example/page0.html", "title": "Inside post", "snapshot": snapshot, "citations": []},
        {"post_id": "p2", "url": "http://site.example/outside", "title": "Symlinked snapshot",
         "snapshot": {**snapshot, "warc_file": "outside.warc.gz", "offset": 0}, "citations": []},
        {"post_id": "p3", "url": "http://site.example/x", "title": "Traversing snapshot",
         "snapshot": {**snapshot, "warc_file": up + str(local).lstrip("/"), "offset": 0}, "citations": []},
    ]  # fmt: skip
    manifest = {"run_id": "r1", "started": "2024-05-06T07:00:00Z", "finished": "2024-05-06T07:00:05Z", "posts": posts}
    (root / "manifests" / "r1.json").write_text(json.dumps(manifest))
    return out


def base_offset(lines: list[str]) -> int:
    page0 = next(line for line in lines if line.startswith("example,site)/page0.html "))
    return int(json.loads(page0.split(" ", 2)[2])["offset"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("traversal")
    tokens = [f"CANARY-{name}-{secrets.token_hex(12)}" for name in ("local", "out", "tmp")]
    in_tmp = Path("/tmp") / f"citearchive-canary-{secrets.token_hex(8)}.txt"
    canaries = [tmp / "canary-local.txt", tmp / "out" / "canary-out.txt", in_tmp]
    try:
        for token, path in zip(tokens, canaries, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(token + "\n")
        out = build_out(tmp, tokens, canaries)
        with replay_server(out, tmp) as server:
            yield Site(out, [t.encode() for t in tokens], canaries, server)
    finally:
        in_tmp.unlink(missing_ok=True)


def test_controls_routes_are_live_and_inside_files_are_served(site: Site) -> None:
    """Positive controls: the same routes do serve what is inside, so a 4xx below means refused."""
    assert raw_get(site.archive_port, b"/static/_/cites/ok.txt").body == b"INSIDE-STATIC-FILE\n"
    wombat = raw_get(site.archive_port, b"/static/wombat.js")  # pywb's own assets
    assert wombat.status == 200 and len(wombat.body) > 10_000
    page = raw_get(site.archive_port, f"/cites/{TS}id_/http://site.example/page0.html".encode())
    assert page.status == 200 and b"Page zero text." in page.body
    post = raw_get(site.landing_port, b"/c/cites/p1")
    assert post.status == 200 and b"Page zero text." in post.body
    assert raw_get(site.landing_port, b"/api/collections").status == 200
    # The detector itself: the canary files hold the tokens it looks for.
    assert all(token in path.read_bytes() for token, path in zip(site.tokens, site.canaries, strict=True))


SYMLINK_TARGETS = [
    ("archive", b"/static/_/cites/link.txt"), ("archive", b"/static/_/cites/up/canary-local.txt"),
    ("archive", b"/static/_/cites/up/out/canary-out.txt"), ("archive", b"/static/link.txt"),
    ("archive", b"/static/_/cites/tmpdir/CANARY_TMP"),
    *(("archive", f"/cites/{TS}{mod}/http://site.example/{name}".encode())
      for mod in ("id_", "mp_", "") for name in ("linked", "outside", "idx-relative", "idx-absolute", "idx-encoded")),
    ("archive", b"/cites/timemap/link/http://site.example/outside"), ("archive", b"/cites/cdx?url=http://site.example/outside"),
    ("landing", b"/"), ("landing", b"/api/collections"), ("landing", b"/c/cites/p2"), ("landing", b"/c/cites/p3"),
    ("landing", b"/c/cites/leak"),
]  # fmt: skip


def test_symlinks_and_index_paths_do_not_leave_the_collection(site: Site) -> None:
    escapes: list[str] = []
    statuses: Counter[int | None] = Counter()
    for origin, target in SYMLINK_TARGETS:
        target = target.replace(b"CANARY_TMP", site.canaries[2].name.encode())
        port = site.landing_port if origin == "landing" else site.archive_port
        reply = raw_get(port, target)
        statuses[reply.status] += 1
        if reply.status is None:
            escapes.append(f"{origin} {target!r}: no answer ({reply.error})")
        if found := site.leaked(reply):
            escapes.append(f"{origin} {target!r} -> {reply.status} leaks {found}")
    print(f"\n[7G symlinks] requests={len(SYMLINK_TARGETS)} statuses={dict(statuses)} escapes={len(escapes)}")
    assert not escapes, "\n".join(escapes)


def test_no_traversal_variant_reaches_a_canary(site: Site) -> None:
    canary_paths = [str(site.canaries[2]), str(site.canaries[0]), "/etc/passwd"]
    variants = payloads(canary_paths)
    escapes: list[str] = []
    unanswered: list[str] = []
    statuses: Counter[str] = Counter()
    requests = 0
    for origin, target in request_targets(canary_paths):
        reply = raw_get(site.landing_port if origin == "landing" else site.archive_port, target)
        requests += 1
        statuses[f"{origin}:{reply.status}"] += 1
        if reply.status is None:
            unanswered.append(f"{origin} {target[:120]!r}: {reply.error}")
        if found := site.leaked(reply):
            escapes.append(f"{origin} {target[:160]!r} -> {reply.status} leaks {found}")
    for origin, target in [("landing", b"*"), ("archive", b"../../../../etc/passwd"), ("archive", b"file:///etc/passwd"),
                           ("archive", f"http://127.0.0.1:{site.archive_port}/static/../../../../etc/passwd".encode()),
                           ("landing", f"http://127.0.0.1:{site.landing_port}/c/../../../../etc/passwd".encode()),
                           ("archive", f"file://{site.canaries[2]}".encode())]:  # fmt: skip
        reply = raw_get(site.landing_port if origin == "landing" else site.archive_port, target)  # request-target forms
        requests += 1
        if found := site.leaked(reply):
            escapes.append(f"{origin} {target!r} -> {reply.status} leaks {found}")
    alive = raw_get(site.archive_port, b"/static/_/cites/ok.txt").status == 200
    print(
        f"\n[7G traversal] variants={len(variants)} routes={len(LANDING_ROUTES) + len(ARCHIVE_ROUTES)} requests={requests} "
        f"escapes={len(escapes)} unanswered={len(unanswered)} statuses={dict(sorted(statuses.items()))} server_alive={alive}"
    )
    assert len(variants) >= 200
    assert not escapes, "\n".join(escapes[:30])
    assert not unanswered, "\n".join(unanswered[:30])
    assert alive


def test_canary_files_are_outside_the_collections_root(site: Site) -> None:
    root = (site.out / "collections").resolve()
    for path in site.canaries:
        assert not path.resolve().is_relative_to(root), path
    assert os.path.isfile(site.canaries[2])
