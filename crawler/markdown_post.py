"""Turn a Markdown post with YAML front matter into HTML and metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from markdown_it import MarkdownIt

# Jekyll/Hugo style: "---" on the first line, closed by "---" or "..." on a line.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


class FrontMatterError(ValueError):
    """The front matter is not a YAML mapping (the message says why, on one line)."""


@dataclass(frozen=True, slots=True)
class MarkdownPost:
    """A Markdown post: its front matter and its body rendered to HTML."""

    front_matter: dict[str, Any]
    html: str


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``text`` into its front matter mapping ({} if none) and the Markdown body."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FrontMatterError(f"{problem}{where}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"expected key: value pairs, got a YAML {type(data).__name__}")
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def render_markdown(body: str) -> str:
    """Render CommonMark (plus tables and strikethrough) to HTML.

    Bare URLs are left as text: the citation extractor finds them in text nodes, so a
    Markdown post and its HTML rendering cite the same things.
    """
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return str(md.render(body))


def parse_markdown_post(text: str) -> MarkdownPost:
    """Parse a Markdown post; the rendered body is wrapped in ``<article>``."""
    front_matter, body = split_front_matter(text.removeprefix("\ufeff"))
    title = front_matter.get("title")
    head = "<meta charset='utf-8'>"
    if title is not None:
        head += f"<title>{_escape(str(title))}</title>"
    html = f"<html><head>{head}</head><body><article>{render_markdown(body)}</article></body></html>"
    return MarkdownPost(front_matter=front_matter, html=html)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
