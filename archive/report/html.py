"""The report as one self-contained HTML page: CSS and JS bundled inline, no CDN, no network."""

from __future__ import annotations

from html import escape
from importlib.resources import files
from typing import Any

__all__ = ["render_html"]

STATE_LABEL = {"alive": "alive", "at-risk": "at risk", "dead": "dead"}


def _asset(name: str) -> str:
    return files("archive.report").joinpath("assets", name).read_text(encoding="utf-8")


def _replay(base: str, collection: str, location: dict[str, Any] | None, url: str) -> str:
    if not location or not location.get("timestamp"):
        return "—"
    href = f"{base.rstrip('/')}/{collection}/{location['timestamp']}/{location.get('final_url') or url}"
    stamp = location["timestamp"]
    label = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[8:10]}:{stamp[10:12]}"
    return f'<a href="{escape(href)}">{escape(label)}</a>'


def _dot(entry: dict[str, Any]) -> str:
    classes = ["dot"]
    if not entry["ok"]:
        classes.append("fail")
    elif entry.get("flagged"):
        classes.append("changed")
    elif entry.get("revisit"):
        classes.append("revisit")
    title = f"{entry['started']} · {entry['kind']}: {entry['detail']}"
    if entry.get("similarity") is not None:
        title += f" · similarity {entry['similarity']:.2f}"
    if entry.get("revisit"):
        title += " · unchanged (revisit record)"
    return f'<span class="{" ".join(classes)}" title="{escape(title)}"></span>'


def _diff(diff: str) -> str:
    lines = []
    for line in diff.splitlines()[:200]:
        kind = "add" if line.startswith("+") and not line.startswith("+++") else (
            "del" if line.startswith("-") and not line.startswith("---") else "")
        lines.append(f'<span class="{kind}">{escape(line)}</span>' if kind else escape(line))
    return "\n".join(lines)


def _citation_row(citation: dict[str, Any], collection: str, replay_base: str) -> str:
    state = citation["state"]
    classes = ["citation", state] + (["drifted"] if citation["drifted"] else [])
    badges = [f'<span class="chip {state}">{STATE_LABEL[state]}</span>']
    drift = citation.get("drift")
    if citation["drifted"] and drift:
        badges.append(f'<span class="chip drifted">drifted {drift["change"]:.0%}</span>')
    if citation["new_rot"] or citation["new_drift"]:
        badges.append('<span class="chip new">new</span>')
    details = []
    if citation["evidence"]:
        items = "".join(f"<li>{escape(line)}</li>" for line in citation["evidence"])
        details.append(f"<details open><summary>evidence</summary><ul class=\"evidence\">{items}</ul></details>")
    if drift and drift["diff"]:
        details.append(
            f"<details><summary>text diff {escape(str(drift['from']))} → {escape(str(drift['to']))}"
            f" (similarity {drift['similarity']:.2f})</summary><pre class=\"diff\">{_diff(drift['diff'])}</pre></details>"
        )
    timeline = "".join(_dot(entry) for entry in citation["timeline"]) or '<span class="dot none"></span>'
    url = citation["url"]
    return (
        f'<tr class="{" ".join(classes)}">'
        f"<td>{escape(str(citation['n']))}</td>"
        f'<td class="url"><a href="{escape(url)}">{escape(url)}</a>'
        f'<span class="anchor">{escape(citation.get("anchor_text") or "")}</span>{"".join(details)}</td>'
        f"<td>{' '.join(badges)}</td>"
        f"<td>{_replay(replay_base, collection, citation['first_good'], url)}</td>"
        f"<td>{_replay(replay_base, collection, citation['last_good'], url)}</td>"
        f'<td><div class="timeline">{timeline}</div></td>'
        "</tr>"
    )


def _chips(counts: dict[str, int]) -> str:
    return "".join(
        f'<span class="chip {key}">{counts[key]} {STATE_LABEL.get(key, key)}</span>'
        for key in ("alive", "at-risk", "dead", "drifted")
    )


def render_html(report: dict[str, Any], replay_base: str = "http://localhost:8080") -> str:
    """The report as a standalone page; capture links point at a pywb at ``replay_base``."""
    collection = str(report["collection"])
    runs = report["runs"]
    span = f"{len(runs)} runs, {runs[0]['started']} to {runs[-1]['started']}" if runs else "no runs yet"
    sections = []
    for post in report["posts"]:
        rows = "".join(_citation_row(c, collection, replay_base) for c in post["citations"])
        sections.append(
            f'<section class="post"><h2>{escape(post["title"] or post["url"] or post["source"])}</h2>'
            f'<div class="source">{escape(post["source"])}</div>'
            f'<div class="counts">{_chips(post["counts"])}</div>'
            "<table><thead><tr><th>n</th><th>citation</th><th>state</th><th>first good capture</th>"
            f"<th>best copy (last good)</th><th>timeline</th></tr></thead><tbody>{rows}</tbody></table></section>"
        )
    totals = report["totals"]
    policy = report["policy"]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>citearchive report: {escape(collection)}</title>
<style>
{_asset("report.css")}</style>
</head>
<body>
<header class="page"><h1>Citations of collection “{escape(collection)}”</h1>
<p>{escape(span)} · generated {escape(str(report["generated"]))}</p></header>
<main>
<div class="totals">{_chips(totals)}<span class="chip new">{totals["new_rot"]} new rot, {totals["new_drift"]} new drift</span></div>
<p class="legend">Dead: {policy["failures"]} or more failures in a row spanning at least {policy["min_days"]:g} days;
at risk: failing, not yet dead. Drifted: the main text changed by more than {policy["drift_threshold"]:.0%}
since the first good capture. Timeline: one dot per attempt (green: good, ringed: unchanged, stored as a revisit;
purple: changed text; red: failed). Links open the capture in pywb at {escape(replay_base)}.</p>
<div class="filters"><button class="on" data-filter="all">all</button> <button data-filter="dead">dead</button>
<button data-filter="at-risk">at risk</button> <button data-filter="drifted">drifted</button></div>
{"".join(sections)}
</main>
<script>
{_asset("report.js")}</script>
</body>
</html>
"""
