"""One command: generate the site, serve it (nginx; 100 ms latency), run every tool over the same URLs, print the table.

    .venv/bin/python bench/run.py --pages 2000 --rounds 3

Needs nginx and wget (run as root, it installs them with apt-get when missing). scrapy-webarchive
is installed into bench/.venvs/webarchive (its pins differ from citearchive's) unless --no-webarchive.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import pinned  # noqa: E402
import sitegen  # noqa: E402
from servers import Server, start_latency_server, start_nginx  # noqa: E402

WEBARCHIVE_VENV = HERE / ".venvs" / "webarchive"


@dataclass(slots=True)
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    pages: int
    body_bytes: int
    ok: bool
    note: str = ""


@dataclass(slots=True)
class Row:
    regime: str
    tool: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def good(self) -> list[Sample]:
        """The rounds that succeeded (all of them if none did, so a broken tool still shows)."""
        return [s for s in self.samples if s.ok] or self.samples

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.good)

    @property
    def pages_per_s(self) -> float:
        return statistics.median(s.pages / s.wall for s in self.good)

    @property
    def cpu_per_page_ms(self) -> float:
        return statistics.median(1000 * s.cpu / s.pages for s in self.good)

    @property
    def mb_per_s(self) -> float:
        return statistics.median(s.body_bytes / s.wall / 1e6 for s in self.good)


GNU_TIME = "/usr/bin/time"


def timed(cmd: list[str], rss_file: Path) -> list[str]:
    """``cmd`` under GNU time, which writes its peak RSS (KB) to ``rss_file``.

    A child's own ru_maxrss is no good here: a process spawned by this (larger) Python
    process starts with the parent's resident size on record, so every small tool would
    show this script's footprint. GNU time is a small C parent.
    """
    return [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd] if Path(GNU_TIME).exists() else cmd


def peak_rss_mb(rss_file: Path, fallback_kb: int) -> float:
    try:
        return int(rss_file.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return fallback_kb / 1024


def run_measured(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """(wall s, CPU s of the process and its children, peak RSS MB, exit status) of one command."""
    rss_file = log.with_suffix(".rss")
    with log.open("wb") as out:
        began = time.perf_counter()
        proc = subprocess.Popen(timed(cmd, rss_file), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, peak_rss_mb(rss_file, usage.ru_maxrss), proc.returncode


def manifest_counts(out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in (out / "collections").glob("*/manifests/*.json"):
        manifest = json.loads(path.read_text())
        for post in manifest["posts"]:
            for citation in post["citations"]:
                status = citation["capture"]["status"]
                counts[status] = counts.get(status, 0) + 1
    return counts


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, site: sitegen.Site):
        self.args = args
        self.work = work
        self.site = site
        self.python = str(REPO / ".venv" / "bin" / "python")
        self.citearchive = str(REPO / ".venv" / "bin" / "citearchive")
        self.rows: dict[tuple[str, str], Row] = {}
        self.counter = 0

    def fresh_dir(self, name: str) -> Path:
        self.counter += 1
        path = self.work / "runs" / f"{self.counter:04d}-{name}"
        path.mkdir(parents=True)
        return path

    def record(self, regime: str, tool: str, sample: Sample) -> None:
        self.rows.setdefault((regime, tool), Row(regime, tool)).samples.append(sample)
        flag = "" if sample.ok else f"  FAILED {sample.note}"
        print(
            f"  {regime:8} {tool:34} {sample.pages / sample.wall:8.1f} pages/s  {sample.wall:6.2f} s wall"
            f"  {sample.cpu:6.2f} s CPU  {sample.rss_mb:6.1f} MB{flag}",
            flush=True,
        )

    # -- the tools ----------------------------------------------------------------------

    def citearchive_cmd(self, server: Server, pages: list[str], out: Path, requisites: bool, tag: str) -> list[str]:
        post = out.parent / f"post-{tag}.html"
        sitegen.write_post(post, server.base_url, pages)
        cmd = [self.citearchive, "archive", str(post), "--out", str(out), "--allow-private", "--include-internal", "-q", "--fresh"]
        if not requisites:
            cmd.append("--no-requisites")
        return cmd + pinned.citearchive_args()

    def run_citearchive(self, regime: str, server: Server, pages: list[str], requisites: bool) -> None:
        tool = "citearchive" + (" +requisites" if requisites else " (citations only)")
        run_dir = self.fresh_dir("citearchive")
        out = run_dir / "out"
        cmd = self.citearchive_cmd(server, pages, out, requisites, "0")
        wall, cpu, rss, status = run_measured(cmd, REPO, run_dir / "log.txt")
        counts = manifest_counts(out)
        ok = status == 0 and counts.get("archived", 0) == len(pages)
        body = self.site.page_bytes() + (self.site.requisite_bytes() if requisites else 0)
        self.record(regime, tool, Sample(wall, cpu, rss, len(pages), body, ok, f"exit {status}, {counts}; {run_dir}"))

    def run_citearchive_processes(self, regime: str, server: Server, pages: list[str], processes: int) -> None:
        """`citearchive archive --processes N --shard-by url` over the whole list, into one collection.

        By URL: the site is one host, whose limits the pinned settings lift (by host, the default,
        one process would get every page).
        """
        run_dir = self.fresh_dir("citearchive-processes")
        out = run_dir / "out"
        cmd = self.citearchive_cmd(server, pages, out, False, "0")
        cmd += ["--processes", str(processes), "--shard-by", "url"]
        wall, cpu, rss, status = run_measured(cmd, REPO, run_dir / "log.txt")
        counts = manifest_counts(out)
        manifests = list((out / "collections").glob("*/manifests/*.json"))
        ok = status == 0 and len(manifests) == 1 and counts.get("archived", 0) == len(pages)
        tool = f"citearchive x{processes} processes (--processes {processes} --shard-by url)"
        body = self.site.page_bytes()
        self.record(regime, tool, Sample(wall, cpu, rss, len(pages), body, ok, f"exit {status}, {counts}; {run_dir}"))

    def run_citearchive_blog(self, regime: str, server: Server, pages: list[str], per_post: int = 50) -> None:
        """`citearchive archive FEED` of a whole blog: posts of ``per_post`` citations each, fetched from the server."""
        run_dir = self.fresh_dir("citearchive-blog")
        out = run_dir / "out"
        feed = run_dir / "feed.xml"
        folder = f"blog-{len(pages)}"
        posts = sitegen.write_blog(self.site.root, feed, server.base_url, pages, per_post, folder)
        cmd = [self.citearchive, "archive", str(feed), "--out", str(out), "--allow-private", "--include-internal", "-q", "--fresh", "--no-requisites"]
        cmd += pinned.citearchive_args()
        wall, cpu, rss, status = run_measured(cmd, REPO, run_dir / "log.txt")
        counts = manifest_counts(out)
        ok = status == 0 and counts.get("archived", 0) == len(pages)
        tool = f"citearchive, a blog: feed of {posts} posts x {per_post} citations"
        self.record(regime, tool, Sample(wall, cpu, rss, len(pages), self.site.page_bytes(), ok, f"exit {status}, {counts}; {run_dir}"))

    def url_list(self, server: Server, pages: list[str], run_dir: Path) -> Path:
        path = run_dir / "urls.txt"
        sitegen.write_url_list(path, server.base_url, pages)
        return path

    def run_scrapy(self, regime: str, server: Server, pages: list[str], mode: str) -> None:
        run_dir = self.fresh_dir(f"scrapy-{mode}")
        urls = self.url_list(server, pages, run_dir)
        python = str(WEBARCHIVE_VENV / "bin" / "python") if mode == "webarchive" else self.python
        cmd = [python, str(HERE / "baseline.py"), mode, str(urls), str(run_dir / "out")]
        wall, cpu, rss, status = run_measured(cmd, run_dir, run_dir / "log.txt")
        lines = (run_dir / "log.txt").read_text(errors="replace").strip().splitlines()
        try:
            responses = json.loads(lines[-1])["status_200"]
        except (IndexError, ValueError, KeyError):
            responses = 0
        ok = status == 0 and responses == len(pages)
        tool = {
            "plain": "Scrapy, bodies discarded",
            "plain-items8": "Scrapy, bodies discarded, CONCURRENT_ITEMS=8 (citearchive's value)",
            "lxml": "Scrapy + lxml parse",
            "webarchive": "scrapy-webarchive",
        }[mode]
        self.record(regime, tool, Sample(wall, cpu, rss, len(pages), self.site.page_bytes(), ok, f"exit {status}, {responses} x 200; {run_dir}"))

    def run_wget(self, regime: str, server: Server, pages: list[str]) -> None:
        run_dir = self.fresh_dir("wget")
        urls = self.url_list(server, pages, run_dir)
        cmd = ["wget", *pinned.WGET_ARGS, f"--warc-file={run_dir / 'wget'}", "-O", "/dev/null", "-i", str(urls)]
        wall, cpu, rss, status = run_measured(cmd, run_dir, run_dir / "log.txt")
        ok = status == 0 and (run_dir / "wget.warc.gz").exists()
        body = sum(self.site.wire_bytes[p] for p in pages)
        self.record(regime, "wget --warc-file (1 process)", Sample(wall, cpu, rss, len(pages), body, ok, f"exit {status}; {run_dir}"))

    # -- a regime ------------------------------------------------------------------------

    def regime(self, name: str, server: Server, pages: list[str], wget_pages: list[str]) -> None:
        jobs: list[tuple[str, Any]] = [
            ("citearchive", lambda: self.run_citearchive(name, server, pages, False)),
            ("citearchive+req", lambda: self.run_citearchive(name, server, pages, True)),
            ("plain", lambda: self.run_scrapy(name, server, pages, "plain")),
            ("lxml", lambda: self.run_scrapy(name, server, pages, "lxml")),
            ("wget", lambda: self.run_wget(name, server, wget_pages)),
        ]
        if self.args.webarchive:
            jobs.append(("webarchive", lambda: self.run_scrapy(name, server, pages, "webarchive")))
        if name == "loopback":
            jobs.append(("plain-items8", lambda: self.run_scrapy(name, server, pages, "plain-items8")))
        if name == "loopback" and self.args.processes > 1:
            jobs.append(("processes", lambda: self.run_citearchive_processes(name, server, pages, self.args.processes)))
        for round_ in range(self.args.rounds):
            print(f"{name}: round {round_ + 1} of {self.args.rounds} (load {os.getloadavg()[0]:.2f})", flush=True)
            # Rotate the order so slow drifts of the machine's load do not favour one tool.
            shift = round_ % len(jobs)
            for _, job in jobs[shift:] + jobs[:shift]:
                job()


# --- setup -----------------------------------------------------------------------------


def ensure_system_tools() -> list[str]:
    """nginx and wget: installed with apt-get when running as root, else reported missing."""
    missing = [tool for tool in ("nginx", "wget") if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())]
    if missing and os.geteuid() == 0:
        print(f"Installing {' '.join(missing)} with apt-get ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], check=False, stdout=subprocess.DEVNULL)
        missing = [tool for tool in missing if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists())]
    return missing


def ensure_webarchive() -> str | None:
    """scrapy-webarchive in its own venv; None when ready, else why not."""
    python = WEBARCHIVE_VENV / "bin" / "python"
    check = [str(python), "-c", "import scrapy.core.downloader.handlers.http11, scrapy_webarchive.extensions"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    print("Installing scrapy-webarchive into bench/.venvs/webarchive ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(WEBARCHIVE_VENV)], check=True)
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(HERE / "webarchive-requirements.txt")], capture_output=True, text=True)
    if result.returncode != 0:
        return f"pip install scrapy-webarchive failed: {result.stderr.strip().splitlines()[-1:]}"
    return None


def tool_version(cmd: list[str]) -> str:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except OSError:
        return "?"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


# --- the table -------------------------------------------------------------------------

CI = "citearchive (citations only)"
CIR = "citearchive +requisites"
PLAIN = "Scrapy, bodies discarded"
LXML = "Scrapy + lxml parse"
SWA = "scrapy-webarchive"
WGET = "wget --warc-file (1 process)"


def print_table(rows: dict[tuple[str, str], Row]) -> None:
    print()
    print("| regime | tool | pages | pages/s | CPU ms/page | MB/s | peak RSS MB (max of processes) | rounds ok |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (regime, tool), row in rows.items():
        ok = sum(s.ok for s in row.samples)
        print(
            f"| {regime} | {tool} | {row.samples[0].pages} | {row.pages_per_s:.1f} | {row.cpu_per_page_ms:.2f} | "
            f"{row.mb_per_s:.1f} | {row.median('rss_mb'):.0f} | {ok}/{len(row.samples)} |"
        )


def ratio(rows: dict[tuple[str, str], Row], regime: str, a: str, b: str) -> float | None:
    if (regime, a) not in rows or (regime, b) not in rows:
        return None
    return rows[(regime, a)].pages_per_s / rows[(regime, b)].pages_per_s


def print_goals(rows: dict[tuple[str, str], Row], extra: dict[str, Any]) -> None:
    print()
    print("Ratios of pages/s (medians) and goals:")
    goals: list[tuple[str, float | None, float, str]] = [
        ("loopback", ratio(rows, "loopback", CI, PLAIN), 0.9, "citearchive / plain Scrapy (loopback, citations only)"),
        ("loopback", ratio(rows, "loopback", CI, SWA), 1.5, "citearchive / scrapy-webarchive (loopback)"),
        ("loopback", ratio(rows, "loopback", CI, WGET), 0.0, "citearchive / wget (loopback; no goal)"),
        ("loopback", ratio(rows, "loopback", CIR, LXML), 0.9, "citearchive +requisites / Scrapy + lxml (loopback)"),
        ("latency", ratio(rows, "latency", CI, PLAIN), 0.95, "citearchive / plain Scrapy (latency)"),
        ("latency", ratio(rows, "latency", CI, WGET), 10.0, "citearchive / single-process wget (latency)"),
        ("latency", ratio(rows, "latency", CIR, LXML), 0.0, "citearchive +requisites / Scrapy + lxml (latency; no goal)"),
    ]
    multi = [tool for (regime, tool) in rows if regime == "loopback" and "processes" in tool]
    for tool in multi:
        goals.append(("loopback", ratio(rows, "loopback", tool, CI), 1.4, f"{tool} / one process (loopback, citations only)"))
        # The ">= 1.5x scrapy-webarchive" goal assumed it runs at 0.6x plain Scrapy; here it runs as fast.
        goals.append(("loopback", ratio(rows, "loopback", tool, SWA), 1.5, f"{tool} / scrapy-webarchive (loopback)"))
    for _, value, goal, label in goals:
        if value is None:
            print(f"  {label}: not measured")
            continue
        verdict = "" if goal == 0 else ("  MET" if value >= goal else f"  NOT MET (goal >= {goal})")
        print(f"  {label}: {value:.2f}x{verdict}")
    for tool in (CI, CIR):
        if ("loopback", tool) in rows:
            rss = rows[("loopback", tool)].median("rss_mb")
            print(f"  {tool} peak RSS at {rows[('loopback', tool)].samples[0].pages} pages: {rss:.0f} MB{'  MET' if rss <= 150 else '  NOT MET (goal <= 150 MB)'}")
    if "scale" in extra:
        small, large, pages = extra["scale"]
        growth = large / small - 1
        print(f"  citearchive peak RSS, a blog of {pages} cited pages against one of {extra['scale_small_pages']}: {large:.0f} MB against {small:.0f} MB "
              f"({growth:+.0%}){'  MET' if growth <= 0.15 else '  NOT MET (goal within 15%)'}")
        print(f"  (one post citing all {pages} pages: {extra['scale_one_post']:.0f} MB, its page parsed whole)")
    if "index" in extra:
        info = extra["index"]
        baseline = f" (cdxj_indexer re-reading the WARCs: {info['index_full_s']:.2f} s)" if "index_full_s" in info else ""
        print(f"  CDXJ index of {info['records']:,} records: {info['index_s']:.2f} s{baseline}{'  MET' if info['index_s'] <= 10 else '  NOT MET (goal <= 10 s)'}")
        print(
            f"  replay of one capture from {info['records']:,}: median {info['replay_median_ms']:.1f} ms, p90 {info['replay_p90_ms']:.1f} ms"
            f" ({info['replay_samples']} GETs){'  MET' if info['replay_median_ms'] <= 20 else '  NOT MET (goal <= 20 ms)'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000, help="pages in the site and URLs in the list (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per tool and regime; medians are printed (default 3)")
    parser.add_argument("--latency", type=float, default=0.1, help="delay of every response in the latency regime (default 0.1 s)")
    parser.add_argument("--latency-pages", type=int, default=1000, help="URLs in the latency regime (default 1000)")
    parser.add_argument("--wget-latency-pages", type=int, default=100, help="URLs for sequential wget in the latency regime (default 100)")
    parser.add_argument("--processes", type=int, default=2, help="crawl processes of the `archive --processes N` row (default 2; 1: skip it)")
    parser.add_argument("--scale-pages", type=int, default=0, help="also run citearchive once over this many pages for the RSS-flatness goal (e.g. 20000)")
    parser.add_argument("--index-records", type=int, default=100_000, help="records of the CDXJ/replay collection (default 100000; 0: skip)")
    parser.add_argument("--regimes", default="loopback,latency", help="comma-separated: loopback, latency")
    parser.add_argument("--no-webarchive", dest="webarchive", action="store_false", help="skip scrapy-webarchive")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (site, WARCs, logs)")
    args = parser.parse_args()

    missing = ensure_system_tools()
    if missing:
        print(f"Missing: {', '.join(missing)}. Install them (as root: apt-get install -y --no-install-recommends {' '.join(missing)}) "
              "or run bench/run.py as root, which installs them.", file=sys.stderr)
        return 2
    if args.webarchive and (why := ensure_webarchive()):
        print(f"scrapy-webarchive skipped: {why}", flush=True)
        args.webarchive = False

    work = Path(tempfile.mkdtemp(prefix="citearchive-bench-"))
    os.chmod(work, 0o755)
    servers: list[Server] = []
    extra: dict[str, Any] = {}
    try:
        began = time.perf_counter()
        site = sitegen.generate(work / "site", max(args.pages, args.scale_pages))
        pages = site.pages[: args.pages]
        print(f"Site: {len(site.pages)} pages, {site.page_bytes() / len(site.pages) / 1e3:.1f} KB gzip per page on the wire, "
              f"{len(site.requisites)} shared requisites; generated in {time.perf_counter() - began:.1f} s in {work}", flush=True)
        site.wire_bytes = dict(site.wire_bytes)
        bench = Bench(args, work, site)
        # Page bytes of the first --pages pages only (the site may be larger for --scale-pages).
        full = sitegen.Site(site.root, pages, site.requisites, site.wire_bytes)
        bench.site = full
        regimes = args.regimes.split(",")
        if "loopback" in regimes:
            nginx = start_nginx(site.root, work / "nginx")
            servers.append(nginx)
            bench.regime("loopback", nginx, pages, pages)
            if args.scale_pages:
                # The memory goal compares like with like: a blog (posts of 50 citations) of --pages
                # and of --scale-pages cited pages. One post citing every page is also run, for the
                # record: its 1.5 MB page is parsed whole (lxml), which no queue can spill.
                print(f"loopback: citearchive over blogs of {args.pages} and {args.scale_pages} pages (RSS flatness)", flush=True)
                big = site.pages[: args.scale_pages]
                bench.run_citearchive_blog("scale", nginx, pages)
                bench.site = sitegen.Site(site.root, big, site.requisites, site.wire_bytes)
                bench.run_citearchive_blog("scale", nginx, big)
                bench.run_citearchive("scale", nginx, big, False)
                bench.site = full
                blogs = [row for (regime, tool), row in bench.rows.items() if regime == "scale" and "blog" in tool]
                extra["scale"] = (blogs[0].samples[0].rss_mb, blogs[1].samples[0].rss_mb, args.scale_pages)
                extra["scale_one_post"] = bench.rows[("scale", CI)].samples[0].rss_mb
                extra["scale_small_pages"] = len(pages)
            nginx.stop()
            servers.remove(nginx)
        if "latency" in regimes:
            slow = start_latency_server(site.root, work / "latency", args.latency)
            servers.append(slow)
            lat_pages = pages[: args.latency_pages]
            bench.site = sitegen.Site(site.root, lat_pages, site.requisites, site.wire_bytes)
            bench.regime("latency", slow, lat_pages, pages[: args.wget_latency_pages])
            slow.stop()
            servers.remove(slow)
        if args.index_records:
            print(f"Index and replay: a collection of {args.index_records:,} records ...", flush=True)
            import indexbench

            index_dir = work / "index"
            index_dir.mkdir()
            extra["index"] = indexbench.run(index_dir, args.index_records, rounds=args.rounds, samples=200)
        print()
        print(f"citearchive benchmark, {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; {os.cpu_count()} CPUs, "
              f"{platform.platform()}, Python {platform.python_version()}; load average at the end {os.getloadavg()}")
        print("Versions: " + "; ".join([
            tool_version([bench.python, "-c", "import scrapy,warcio,lxml.etree as e;print('Scrapy',scrapy.__version__,'warcio',warcio.__version__ if hasattr(warcio,'__version__') else '','lxml',e.__version__)"]),
            tool_version(["nginx", "-v"]),
            tool_version(["wget", "--version"]),
            ("scrapy-webarchive venv: " + tool_version([str(WEBARCHIVE_VENV / "bin" / "python"), "-c", "import scrapy, importlib.metadata as m; print('Scrapy', scrapy.__version__, 'scrapy-webarchive', m.version('scrapy-webarchive'))"])) if args.webarchive else "scrapy-webarchive skipped",
        ]))
        print(f"Site: {args.pages} pages of {site.page_bytes() / len(site.pages) / 1e3:.1f} KB gzip on average; latency regime: "
              f"{args.latency * 1000:.0f} ms per response, {min(args.latency_pages, args.pages)} pages ({args.wget_latency_pages} for wget); "
              f"{args.rounds} rounds, medians. Wall and CPU are whole processes (start-up and the run's end included).")
        print("Pinned settings:")
        for line in pinned.describe():
            print("  " + line)
        print_table(bench.rows)
        print_goals(bench.rows, extra)
        failed = [f"{r.regime}/{r.tool}: {s.note}" for r in bench.rows.values() for s in r.samples if not s.ok]
        if failed:
            print("\nFailed runs (left out of the medians; check them):\n  " + "\n  ".join(failed))
        return 1 if failed else 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
