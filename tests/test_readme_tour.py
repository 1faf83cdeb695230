"""The README's tour works as typed after the demo: every command of it is run, in order."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.replayserver import get, replay_server

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent


def tour_commands() -> list[str]:
    """The shell lines of the README's tour section, in order."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## A tour.*?$(.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert section, "the README has no '## A tour' section"
    blocks = re.findall(r"```sh\n(.*?)```", section.group(1), re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["./scripts/demo", "./scripts/test"]
    assert "./scripts/test" in (REPO_ROOT / ".ci" / "run").read_text()


def test_the_readme_links_only_files_in_the_repository() -> None:
    for path in [README, *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):  # the docs may cite the field's own pages; the README not
                assert path != README, f"the README links outside the repository: {target}"
                continue
            file_part = target.split("#", 1)[0]
            if file_part:
                assert (path.parent / file_part).exists(), f"{path.name} links a missing file: {target}"


def _run(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_tour_works_as_typed(tmp_path: Path) -> None:
    """Each tour line runs in a folder like the checkout's (``.venv`` there is this environment)."""
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
    env = {**os.environ, "PATH": os.defpath}  # no activated venv: the tour says .venv/bin/...
    demo = _run(".venv/bin/citearchive demo", tmp_path, env)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    commands = tour_commands()
    assert commands, "the tour has no commands"
    own_post_seen = False
    for line in commands:
        argv = shlex.split(line)
        if argv[:2] == [".venv/bin/citearchive", "replay"]:
            out = tmp_path / argv[argv.index("--out") + 1]
            if not out.exists():  # the replay of the reader's own archive (step 5)
                continue
            # As typed, but on free ports: the test suite never takes 8080.
            with replay_server(out, tmp_path) as server:
                landing = get(server.landing, "/")
                assert landing.status == 200 and b"citations" in landing.body
        elif argv[0] == ".venv/bin/citearchive" and any(a.startswith("https://") for a in argv):
            # The reader's own post (`citations`, `archive`): the network is closed here, so each
            # must fail on one line, having tried no other host than the post's.
            own_post_seen = True
            guarded = [sys.executable, "-m", "tests.netguard", str(tmp_path / "violations.txt"), "--", *argv[1:]]
            guard_env = {**env, "PYTHONPATH": str(REPO_ROOT)}
            result = subprocess.run(guarded, cwd=tmp_path, env=guard_env, capture_output=True, text=True, timeout=120)
            assert result.returncode == 3, result.stderr[-2000:]
            assert "Traceback" not in result.stderr
            lookups = (tmp_path / "violations.txt").read_text().split()
            assert lookups and set(lookups) <= {"getaddrinfo", "'blog.example'"}, lookups
        else:
            result = _run(line, tmp_path, env)
            # `report` exits 5 on new rot, as the tour says: the demo's 404 is one.
            allowed = {0, 5} if argv[:2] == [".venv/bin/citearchive", "report"] else {0}
            assert result.returncode in allowed, f"{line}: {result.stdout[-1000:]}{result.stderr[-2000:]}"
    assert own_post_seen
    assert (tmp_path / "demo-report.html").stat().st_size > 0
    assert (tmp_path / "demo.wacz").stat().st_size > 0


@pytest.mark.parametrize("command", ["report", "export", "recrawl"])
def test_the_demo_collection_is_every_command_default(command: str) -> None:
    from crawler.cli import build_parser

    demo_args = build_parser().parse_args(["demo"])
    needed = {"export": ["--wacz", "x.wacz"]}.get(command, [])
    args = build_parser().parse_args([command, *needed])
    assert args.collection == demo_args.collection
