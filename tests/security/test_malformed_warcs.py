"""Issue 7D: malformed WARCs through the indexer (every input) and through replay (a sample of every kind).

The inputs come from one small WARC written by ArchiveWriter (``tests/security/warcmutants.py``): cut at
every byte offset (gzip and plain), bit-flipped at seeded random offsets, with bogus Content-Length
values, whole-file gzip, plain data named ``.warc.gz``, a missing version line and more.
``CITEARCHIVE_FUZZ_WARCS`` sets how many seeded random mutants are added (default 2000).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.cdxj import index_warc_files
from archive.exceptions import IndexLookupError
from tests.replayserver import ReplayServer, replay_server
from tests.security.rawhttp import RawReply, raw_get
from tests.security.warcmutants import Base, Mutant, mutants, write_base, write_mutant

RANDOM_MUTANTS = int(os.environ.get("CITEARCHIVE_FUZZ_WARCS", "2000"))
REPLAY_SAMPLE = 200
LIMIT = 5.0  # seconds an input may take, indexed or replayed
LINE = re.compile(r"^(\S+) (\d{14}) (\{.*\})$")


@dataclass
class Outcome:
    kind: str  # "lines", "error", "uncaught", "hang"
    seconds: float
    lines: list[str]
    error: BaseException | None = None


def index_with_deadline(directory: Path, name: str) -> Outcome:
    """``index_warc_files`` on one file, in a daemon thread so a hang is reported, not waited for."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["lines"] = index_warc_files(directory, [name])
        except BaseException as exc:  # noqa: BLE001 - the test classifies whatever escapes
            box["error"] = exc

    start = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(LIMIT)
    seconds = time.perf_counter() - start
    if thread.is_alive():
        return Outcome("hang", seconds, [])
    error = box.get("error")
    if isinstance(error, BaseException):
        return Outcome("error" if isinstance(error, IndexLookupError) else "uncaught", seconds, [], error)
    lines = box["lines"]
    assert isinstance(lines, list)
    return Outcome("lines", seconds, lines)


def bad_line(line: str, name: str) -> str | None:
    """Why an index line could not be read by pywb, or None."""
    match = LINE.match(line)
    if match is None:
        return "not `urlkey timestamp {json}`"
    fields = json.loads(match.group(3))
    if fields.get("filename") != name:
        return f"filename {fields.get('filename')!r}"
    if not str(fields.get("offset", "")).isdigit() or not str(fields.get("length", "")).isdigit():
        return "offset or length is not a number"
    return None


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return write_base(tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def indexed(base: Base, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Mutant, Outcome]]:
    """Every mutant through the indexer: name -> (mutant, outcome). Files are removed after each run."""
    directory = tmp_path_factory.mktemp("mutants")
    results: dict[str, tuple[Mutant, Outcome]] = {}
    chatter = io.StringIO()  # warcio writes "Record not followed by newline" warnings to stderr
    warcio_log = logging.getLogger("warcio")
    level = warcio_log.level
    warcio_log.setLevel(logging.ERROR)  # and logs "Replacing spaces in invalid WARC-Target-URI"
    with contextlib.redirect_stderr(chatter), contextlib.redirect_stdout(chatter):
        for mutant in mutants(base, RANDOM_MUTANTS):
            path = write_mutant(directory, mutant)
            outcome = index_with_deadline(directory, mutant.name)
            results[mutant.name] = (mutant, outcome)
            if outcome.kind == "hang":
                break  # the stuck thread still holds the file; the assertion below reports it
            path.unlink()
    warcio_log.setLevel(level)
    return results


def test_indexer_survives_every_malformed_warc(indexed: dict[str, tuple[Mutant, Outcome]]) -> None:
    kinds: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    problems: list[str] = []
    with_offset = 0
    for name, (mutant, outcome) in indexed.items():
        kinds[outcome.kind] += 1
        by_category[mutant.category][outcome.kind] += 1
        if outcome.kind in ("hang", "uncaught"):
            problems.append(f"{name}: {outcome.kind} {outcome.error!r}")
        elif outcome.seconds > LIMIT:
            problems.append(f"{name}: took {outcome.seconds:.1f} s")
        elif outcome.kind == "error":
            message = str(outcome.error)
            if name not in message:
                problems.append(f"{name}: the error does not name the file: {message[:200]}")
            with_offset += "offset" in message
        else:
            problems.extend(f"{name}: {why}: {line[:200]}" for line in outcome.lines if (why := bad_line(line, name)))
    slowest = max(outcome.seconds for _, outcome in indexed.values())
    print(
        f"\n[7D indexer] inputs={len(indexed)} lines={kinds['lines']} IndexLookupError={kinds['error']} "
        f"(with offset {with_offset}) uncaught={kinds['uncaught']} hangs={kinds['hang']} slowest={slowest:.2f}s "
        f"categories={len(by_category)}"
    )
    for category, counts in sorted(by_category.items()):
        print(f"  {category}: {dict(counts)}")
    assert len(indexed) >= 5000
    assert not problems, "\n".join(problems[:30])
    # Every error kind seen says where: the file always, the offset whenever the reader got that far.
    assert with_offset == kinds["error"]


def replay_sample(indexed: dict[str, tuple[Mutant, Outcome]], size: int) -> list[tuple[Mutant, Outcome]]:
    """``size`` mutants spread evenly over every category, accepted and refused ones alike."""
    groups: dict[str, list[tuple[Mutant, Outcome]]] = defaultdict(list)
    for mutant, outcome in indexed.values():
        groups[mutant.category].append((mutant, outcome))
    quotas = {category: 0 for category in groups}
    while sum(quotas.values()) < min(size, len(indexed)):
        for category in sorted(groups, key=lambda c: quotas[c]):
            if quotas[category] < len(groups[category]):
                quotas[category] += 1
                break
    sample: list[tuple[Mutant, Outcome]] = []
    for category, items in sorted(groups.items()):
        quota = quotas[category]
        sample.extend(items[int(i * len(items) / quota)] for i in range(quota))
    return sample


def pristine_lines(base: Base, directory: Path) -> list[str]:
    (directory / "base.warc.gz").write_bytes(base.gz)
    lines = index_warc_files(directory, ["base.warc.gz"])
    assert len(lines) == len(base.captures)
    return lines


def fetch(server: ReplayServer, target: str) -> tuple[RawReply, float]:
    """One GET on the archive origin, raw, read to the end: the body can be checked against its framing."""
    port = int(server.archive.rsplit(":", 1)[1])
    start = time.perf_counter()
    reply = raw_get(port, target.encode(), timeout=LIMIT)
    return reply, time.perf_counter() - start


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_replay_answers_every_capture_of_malformed_warcs(
    base: Base, indexed: dict[str, tuple[Mutant, Outcome]], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    collections = out / "collections"
    reference = pristine_lines(base, tmp_path)
    sample = replay_sample(indexed, REPLAY_SAMPLE)
    assert {m.category for m, _ in sample} == {m.category for m, _ in indexed.values()}
    names = ["pristine", *(f"f{n:03d}" for n in range(len(sample)))]
    for name, item in zip(names, [None, *sample], strict=True):
        (collections / name / "archive").mkdir(parents=True)
        (collections / name / "indexes").mkdir()
        if item is None:
            file_name, data, lines = "base.warc.gz", base.gz, reference
        else:
            mutant, outcome = item
            file_name, data = mutant.name, mutant.data
            # What the indexer accepted; otherwise the pristine file's lines, pointing into the broken file.
            lines = outcome.lines or [line.replace('"base.warc.gz"', json.dumps(file_name)) for line in reference]
        (collections / name / "archive" / file_name).write_bytes(data)
        (collections / name / "indexes" / "index.cdxj").write_text("".join(f"{line}\n" for line in sorted(lines)))

    statuses: Counter[str] = Counter()
    failures: list[str] = []
    kinds: Counter[str] = Counter()
    slowest = 0.0
    requests = 0
    with replay_server(out, tmp_path) as server:
        ok, _ = fetch(server, f"/pristine/{base.captures[0][1]}mp_/{base.captures[0][0]}")
        assert ok.status == 200 and ok.framed and b"Page zero text." in ok.body  # positive control
        for name, (mutant, _) in zip(names[1:], sample, strict=True):
            # A 5xx page of pywb's own quotes the exception: the file, its first bytes, a traceback.
            leaks = [b"Traceback", str(out).encode(), mutant.name.encode(), b"first line"]
            for url, timestamp in base.captures:
                for modifier in ("mp_", "id_"):
                    target = f"/{name}/{timestamp}{modifier}/{url}"
                    reply, seconds = fetch(server, target)
                    requests += 1
                    slowest = max(slowest, seconds)
                    statuses[str(reply.status)] += 1
                    if reply.status is None or reply.error:
                        failures.append(f"{target}: no answer ({reply.error})")
                        kinds["no answer"] += 1
                    elif seconds > LIMIT:
                        failures.append(f"{target}: {seconds:.1f} s")
                        kinds["slow"] += 1
                    elif not reply.framed:
                        # A body longer than announced would be read as the next response on a kept-alive connection.
                        failures.append(f"{target}: {len(reply.body)} body bytes do not match the framing: {reply.head[:300]!r}")
                        kinds["misframed"] += 1
                    elif reply.status >= 500 and any(leak in reply.body for leak in leaks):
                        failures.append(f"{target}: {reply.status} leaks internals: {reply.body[:300]!r}")
                        kinds["leaky 5xx"] += 1
            if not process_alive(server.pid):
                failures.append(f"the replay server died after collection {name}")
                break
        alive = process_alive(server.pid)
        again, _ = fetch(server, f"/pristine/{base.captures[0][1]}id_/{base.captures[0][0]}")
    print(
        f"\n[7D replay] collections={len(names) - 1} requests={requests} statuses={dict(sorted(statuses.items()))} "
        f"failures={len(failures)} {dict(kinds)} slowest={slowest:.2f}s server_alive={alive}"
    )
    assert not failures, "\n".join(failures[:30])
    assert alive and again.status == 200 and again.framed
