"""Every numeric option has a range (crawler/commands/bounds.py), checked as the command line is parsed."""

from __future__ import annotations

import argparse
import math

import pytest

from crawler.cli import build_parser, main
from crawler.commands.bounds import BOUNDS, PROCESSES_PER_CORE, available_cores
from crawler.shards import shard_of, useful_processes

#: The arguments each command needs besides the option under test (none of them is ever reached).
REQUIRED = {
    "archive": ["post.html"],
    "worker": ["--redis", "redis://127.0.0.1:1/0"],
    "finalize": ["--redis", "redis://127.0.0.1:1/0"],
}


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def bounded_options() -> list[tuple[str, str]]:
    """(command, option) for every option whose parser type is a range of bounds.py."""
    pairs = []
    for command, parser in subparsers().items():
        for action in parser._actions:
            if getattr(action.type, "__qualname__", "").startswith("bounded."):
                pairs.append((command, action.option_strings[-1]))
    return pairs


def bad_values(option: str) -> list[str]:
    bound = BOUNDS[option.lstrip("-").replace("-", "_")]
    values = ["inf", "-inf", "nan", "1e308", "-1e308", "twelve", ""]
    values += [repr(bound.low - 1), repr(bound.high + 1), "99999999999999999999999"]
    if bound.integer:
        values.append("1.5")
    return values


def test_no_numeric_option_is_left_unbounded() -> None:
    for command, parser in subparsers().items():
        for action in parser._actions:
            assert action.type not in (int, float), f"citearchive {command} {action.option_strings}: use bounded()"
    pairs = bounded_options()
    assert {option for _, option in pairs} == {bound.option for bound in BOUNDS.values()}
    assert ("archive", "--timeout") in pairs and ("recrawl", "--timeout") in pairs and ("worker", "--timeout") in pairs


@pytest.mark.parametrize(("command", "option"), bounded_options())
def test_every_bad_value_is_one_line_and_exit_2(
    command: str, option: str, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"  # type: ignore[operator]
    for value in bad_values(option):
        argv = [command, *REQUIRED.get(command, []), f"{option}={value}"]
        if command not in ("replay", "report"):
            argv += ["--out", str(out)]
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2, (argv, err)
        assert err.count("\n") == 1 and err.startswith(f"citearchive: error: {option} must be "), (argv, err)
        assert not out.exists()


def test_the_range_edges_are_accepted() -> None:
    for bound in BOUNDS.values():
        for edge in (bound.low, bound.high):
            text = str(int(edge)) if bound.integer else repr(float(edge))
            assert bound.parse(text) == edge
        if not bound.integer:
            assert math.isclose(bound.parse(f"{bound.low}"), bound.low)


def test_processes_allow_four_per_core() -> None:
    bound = BOUNDS["processes"]
    assert bound.high == PROCESSES_PER_CORE * available_cores() >= PROCESSES_PER_CORE
    assert f"{PROCESSES_PER_CORE} per available core" in bound.message("100000")


@pytest.mark.parametrize("command", sorted({command for command, _ in bounded_options()}))
def test_help_shows_each_range(command: str) -> None:
    text = " ".join(subparsers()[command].format_help().split())
    for action in subparsers()[command]._actions:
        if getattr(action.type, "__qualname__", "").startswith("bounded."):
            bound = BOUNDS[action.dest]
            assert bound.range_text in text, (command, bound.option)


def test_max_size_never_rounds_to_scrapys_no_limit() -> None:
    """DOWNLOAD_MAXSIZE 0 means no cap in Scrapy: the smallest --max-size is still bytes."""
    from crawler.commands.common import fetch_overrides

    args = argparse.Namespace(max_size=BOUNDS["max_size"].low)
    assert fetch_overrides(args)["DOWNLOAD_MAXSIZE"] >= 100


# --------------------------------------------------------------------- processes with work


def test_no_more_processes_than_shards_with_citations() -> None:
    assert useful_processes([], 8) == 1  # nothing cited: the crawl runs in the parent
    assert useful_processes(["a.example"], 8) == 1  # one host: one process
    assert useful_processes(["a.example"] * 50, 8) == 1
    hosts = [f"h{i}.example" for i in range(400)]
    assert useful_processes(hosts, 8) == 8
    assert useful_processes(hosts, 1) == 1


def test_every_process_kept_has_a_shard_with_work() -> None:
    for size in range(2, 12):
        hosts = [f"host{size}-{i}.example" for i in range(size)]
        count = useful_processes(hosts, 8)
        assert 1 <= count <= min(size, 8)
        if count > 1:
            assert {shard_of(host, count) for host in hosts} >= set(range(1, count))
