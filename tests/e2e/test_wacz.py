"""`citearchive export --wacz` packages the e2e crawl; `wacz validate` (py-wacz) accepts it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.e2e.test_archive_run import COLLECTION, ArchivedRun, archived  # noqa: F401 - module fixture


@pytest.fixture(scope="module")
def wacz_file(archived: ArchivedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    tmp = tmp_path_factory.mktemp("wacz")
    dest = tmp / "e2e.wacz"
    run = run_cli(["export", "--wacz", str(dest), "--out", str(archived.out), "--collection", COLLECTION], tmp)
    assert run.returncode == 0, run.stderr
    assert "page(s) (posts and cited pages)" in run.stdout
    return dest


def test_wacz_validate_accepts_it(wacz_file: Path) -> None:
    executable = Path(sys.executable).with_name("wacz")
    result = subprocess.run([str(executable), "validate", "-f", str(wacz_file)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Validation succeeded" in result.stdout


def test_wacz_layout_hashes_and_pages(archived: ArchivedRun, wacz_file: Path) -> None:  # noqa: F811
    with zipfile.ZipFile(wacz_file) as archive:
        names = set(archive.namelist())
        warcs = {f"archive/{path.name}" for path in archived.warc_files}
        assert warcs <= names and {"indexes/index.cdx", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json"} <= names
        for name in warcs:
            assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED  # spec: WARCs are stored
        package = json.loads(archive.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        for resource in package["resources"]:
            data = archive.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(archive.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(archive.read("datapackage.json")).hexdigest()
        index_files = {json.loads(line.split(" ", 2)[2])["filename"] for line in archive.read("indexes/index.cdx").decode().splitlines()}
        assert {f"archive/{name}" for name in index_files} <= names
        header, *pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines()]
    assert header["format"] == "json-pages-1.0" and header["id"] == "pages"
    archived_citations = [c for c in archived.citations().values() if c["capture"]["status"] == "archived"]
    post = archived.manifest["posts"][0]
    assert pages[0]["url"] == post["snapshot"]["final_url"] and pages[0]["title"] == post["title"]  # the main page first
    assert {p["url"] for p in pages[1:]} == {c["capture"]["final_url"] for c in archived_citations}
    for page in pages:
        assert page["ts"].endswith("Z") and page["title"] and page["id"]
    assert package["mainPageURL"] == archived.manifest["posts"][0]["url"]


def test_export_bad_input_is_one_line(archived: ArchivedRun, tmp_path: Path) -> None:  # noqa: F811
    missing = run_cli(["export", "--wacz", str(tmp_path / "x.wacz"), "--out", str(archived.out), "--collection", "nope"], tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no collection" in missing.stderr
    replay = run_cli(["replay", "--out", str(tmp_path / "empty")], tmp_path)
    assert replay.returncode == 2 and replay.stderr.count("\n") == 1 and "no collections" in replay.stderr
