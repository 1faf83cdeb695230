"""The SSRF guard on a real crawl, and the CLI's one-line errors on bad input."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crawler.cli import main
from tests.conftest import run_cli


def server_requests(base: str) -> list[Any]:
    with urllib.request.urlopen(f"{base}/__requests", timeout=10) as response:
        return list(json.load(response))


def test_loopback_citations_are_blocked_without_allow_private(mocksite: Any, tmp_path: Path) -> None:
    port = mocksite.sites.rsplit(":", 1)[1]
    post = tmp_path / "post.html"
    targets = [
        f"{mocksite.sites}/pages/plain.html?ssrf=1",
        f"http://127.1:{port}/pages/plain.html?ssrf=2",
        f"http://2130706433:{port}/pages/plain.html?ssrf=3",
        f"http://0x7f.1:{port}/pages/plain.html?ssrf=4",
        f"http://[::1]:{port}/pages/plain.html?ssrf=5",
        f"http://localhost:{port}/pages/plain.html?ssrf=6",
    ]
    links = "\n".join(f'<p>Source {i} is <a href="{url}">here</a>.</p>' for i, url in enumerate(targets))
    post.write_text(f"<html><body><article>{links}</article></body></html>", encoding="utf-8")
    before = len([r for r in server_requests(mocksite.sites) if "ssrf=" in json.dumps(r)])
    run = run_cli(["archive", str(post), "--out", str(tmp_path / "out"), "--collection", "ssrf"], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.violations == []
    manifest_path = next((tmp_path / "out" / "collections" / "ssrf" / "manifests").glob("*.json"))
    citations = json.loads(manifest_path.read_text())["posts"][0]["citations"]
    assert len(citations) == len(targets)
    for citation in citations:
        assert citation["capture"]["status"] == "blocked", citation
        assert "loopback" in citation["capture"]["reason"]
    after = len([r for r in server_requests(mocksite.sites) if "ssrf=" in json.dumps(r)])
    assert after == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["archive", "no/such/post.html"], "not found"),
        (["archive", "http://"], "URL"),
        (["archive", "ftp://example.org/post"], "ftp"),
        (["archive", "notes.txt"], "notes.txt"),
    ],
)
def test_bad_sources_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("citearchive: error:")
    assert message.lower() in err.lower()
    assert "Traceback" not in err


def test_unparseable_document_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    post = tmp_path / "post.html"
    post.write_bytes(b"")
    assert main(["archive", str(post), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "post.html" in err


def test_unwritable_output_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    post = tmp_path / "post.html"
    post.write_text('<article><a href="https://example.org/">x</a></article>')
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["archive", str(post), "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "output directory" in err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["archive", "--no-such-option", "x.html"])
    assert exit_info.value.code == 2
