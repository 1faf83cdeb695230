"""Corrections by hand: TOML rules saying, per site or post, where the article is and what it cites.

A rules file holds ``[[site]]`` and ``[[post]]`` tables (docs/citations.md, "Checking and
correcting what is cited")::

    [[site]]
    match = "blog.example.com"         # a domain (its subdomains too), a URL prefix, or "*"
    content = "div.post-body"          # CSS selector of the article body
    drop = ["div.newsletter"]          # CSS selectors of blocks that cite nothing
    include = ["https://doi.org/*"]    # always citations; a domain or a URL glob (only * is special)
    exclude = ["ads.example.net"]      # never citations
    id = "example-blog"                # optional: the name the manifest gives the rule

    [[post]]
    url = "https://blog.example.com/2024/05/some-post/"
    cite = [{ url = "https://example.org/paper.pdf", anchor_text = "the paper" }]

Every rule that matches a post applies: the lists add up, ``content`` comes from the most
specific (a post's URL, then the longest URL prefix, then the longest domain, then ``*``; at
equal rank the later rule, so ``--rules`` files over the collection's ``rules.toml``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from lxml.cssselect import CSSSelector

from crawler.urls import key_or_none, url_problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "COLLECTION_RULES",
    "AppliedRules",
    "ExtraCitation",
    "Rule",
    "Rules",
    "RulesError",
    "load_rules",
    "rules_paths",
]

#: A collection's own rules, applied to every run into it: OUT/collections/NAME/rules.toml.
COLLECTION_RULES = "rules.toml"

_TABLES = {"site": ("match",), "post": ("url",)}
_KEYS = {"match", "url", "id", "content", "drop", "include", "exclude", "cite"}
_HEADER = re.compile(r"^\s*\[\[\s*(site|post)\s*\]\]\s*(?:#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


class RulesError(ValueError):
    """A rules file cannot be used; the message is one line: ``PATH:LINE: what is wrong``."""


@dataclass(frozen=True, slots=True)
class ExtraCitation:
    """A citation added by hand (``cite``): listed after those found in the page."""

    url: str
    anchor_text: str
    context: str


@dataclass(frozen=True, slots=True)
class _Pattern:
    """``include``/``exclude``: a domain (its subdomains too) or a URL glob whose only wildcard is ``*``."""

    text: str
    regex: re.Pattern[str] | None  # a URL glob; None: a domain

    def matches(self, url: str) -> bool:
        if self.regex is not None:
            return self.regex.fullmatch(url) is not None
        return _in_domain(_host(url), self.text)


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``[[site]]`` or ``[[post]]`` table; ``id`` names it in the manifest (``FILE:LINE`` by default)."""

    id: str
    kind: str  # "site" or "post"
    match: str
    content: CSSSelector | None = None
    drop: tuple[CSSSelector, ...] = ()
    include: tuple[_Pattern, ...] = ()
    exclude: tuple[_Pattern, ...] = ()
    cite: tuple[ExtraCitation, ...] = ()

    def rank(self, post_url: str | None) -> tuple[int, int] | None:
        """How specifically this rule matches ``post_url`` (higher: more), or None if it does not."""
        if self.match == "*":
            return (0, 0)
        if post_url is None:
            return None
        if self.kind == "post":
            key = key_or_none(post_url)
            return (3, 0) if key is not None and key == key_or_none(self.match) else None
        if "://" in self.match:
            return (2, len(self.match)) if _lower_origin(post_url).startswith(_lower_origin(self.match)) else None
        return (1, self.match.count(".")) if _in_domain(_host(post_url), self.match) else None


@dataclass(frozen=True, slots=True)
class AppliedRules:
    """What the rules matching one post say, merged (see the module docstring)."""

    ids: tuple[str, ...]
    content: CSSSelector | None
    content_rule: str | None  # the id of the rule ``content`` comes from
    drop: tuple[CSSSelector, ...]
    include: tuple[_Pattern, ...]
    exclude: tuple[_Pattern, ...]
    cite: tuple[ExtraCitation, ...]

    @property
    def name(self) -> str:
        """The manifest's ``extraction.rule``: the rules applied, most specific first."""
        return ", ".join(self.ids)

    def included(self, url: str) -> bool:
        return any(pattern.matches(url) for pattern in self.include)

    def excluded(self, url: str) -> bool:
        return any(pattern.matches(url) for pattern in self.exclude)


@dataclass(frozen=True, slots=True)
class Rules:
    """Every rule of a run's rules files, in the order read."""

    rules: tuple[Rule, ...] = ()
    paths: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_post(self, post_url: str | None) -> AppliedRules | None:
        """The rules that apply to the post at ``post_url`` (None: no rule matches it)."""
        ranked = [(rank, order, rule) for order, rule in enumerate(self.rules) if (rank := rule.rank(post_url)) is not None]
        if not ranked:
            return None
        ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)  # most specific, then latest, first
        chosen = [rule for _, _, rule in ranked]
        content_rule = next((rule for rule in chosen if rule.content is not None), None)
        return AppliedRules(
            ids=tuple(rule.id for rule in chosen),
            content=content_rule.content if content_rule is not None else None,
            content_rule=content_rule.id if content_rule is not None else None,
            drop=tuple(s for rule in chosen for s in rule.drop),
            include=tuple(p for rule in chosen for p in rule.include),
            exclude=tuple(p for rule in chosen for p in rule.exclude),
            cite=tuple(c for rule in reversed(chosen) for c in rule.cite),
        )


def rules_paths(out: Path | str | None, collection: str | None, extra: Iterable[str | Path] = ()) -> list[Path]:
    """The rules files of a run: the collection's ``rules.toml`` when there is one, then ``extra``."""
    paths: list[Path] = []
    if out and collection:  # "" (`citations` sets it): no collection
        own = Path(out) / "collections" / collection / COLLECTION_RULES
        if own.is_file():
            paths.append(own)
    seen = {path.resolve() for path in paths}
    for item in extra:
        path = Path(item)
        if path.resolve() not in seen:
            seen.add(path.resolve())
            paths.append(path)
    return paths


def load_rules(paths: Sequence[str | Path]) -> Rules:
    """Read and check every rules file; :class:`RulesError` (one line, ``PATH:LINE: ...``) on the first problem."""
    rules: list[Rule] = []
    for path in paths:
        rules.extend(_read_file(Path(path)))
    return Rules(tuple(rules), tuple(str(p) for p in paths))


def _read_file(path: Path) -> list[Rule]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line = f":{where.group(1)}" if where else ""
        column = f" (column {where.group(2)})" if where else ""
        raise RulesError(f"{path}{line}: invalid TOML: {_TOML_WHERE.sub('', message)}{column}") from exc
    return _Reader(path, text).rules(data)


class _Reader:
    """Turns a parsed rules file into :class:`Rule` objects, naming ``PATH:LINE`` in every error."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {"site": [], "post": []}
        for number, line in enumerate(self.lines, start=1):
            match = _HEADER.match(line)
            if match:
                self.headers[match.group(1)].append(number)

    def rules(self, data: dict[str, Any]) -> list[Rule]:
        for name, value in data.items():
            if name not in _TABLES:
                raise RulesError(f"{self.path}{self._line_of_key(name, 0)}: unknown table {name!r}: use [[site]] or [[post]]")
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise RulesError(f"{self.path}{self._line_of_key(name, 0)}: {name!r} must be written [[{name}]] (an array of tables)")
        found = [(kind, number, table) for kind in _TABLES for number, table in enumerate(data.get(kind, []))]
        found.sort(key=lambda item: self._header_line(item[0], item[1]) or 0)
        return [self._rule(kind, number, table) for kind, number, table in found]

    def _header_line(self, kind: str, number: int) -> int | None:
        lines = self.headers[kind]
        return lines[number] if number < len(lines) else None

    def _where(self, kind: str, number: int, key: str | None = None) -> str:
        header = self._header_line(kind, number)
        if header is None:
            return f"{self.path}: [[{kind}]] number {number + 1}"
        line = header
        if key is not None:
            line = self._key_line(header, key) or header
        return f"{self.path}:{line}"

    def _key_line(self, header: int, key: str) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(header + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if _ANY_HEADER.match(line):
                return None
            if pattern.match(line):
                return number
        return None

    def _line_of_key(self, key: str, start: int) -> str:
        pattern = re.compile(rf"^\s*(?:\[+\s*)?{re.escape(key)}\b")
        for number, line in enumerate(self.lines[start:], start=start + 1):
            if pattern.match(line):
                return f":{number}"
        return ""

    def _rule(self, kind: str, number: int, table: dict[str, Any]) -> Rule:
        for key in table:
            if key not in _KEYS or (key in ("match", "url") and key not in _TABLES[kind]) or (
                key == "cite" and kind != "post"
            ):
                allowed = sorted((_KEYS - {"match", "url", "cite"}) | set(_TABLES[kind]) | ({"cite"} if kind == "post" else set()))
                raise RulesError(f"{self._where(kind, number, key)}: unknown key {key!r} in [[{kind}]] (use {', '.join(allowed)})")
        key = _TABLES[kind][0]
        match = self._string(kind, number, table, key, required=True)
        assert match is not None
        if kind == "post":
            problem = url_problem(match) if match.lower().startswith(("http://", "https://")) else "not an http(s) URL"
            if problem is not None:
                raise RulesError(f"{self._where(kind, number, key)}: url must be the post's absolute http(s) URL, got {match!r}: {problem}")
        else:
            self._check_match(kind, number, match)
        rule_id = self._string(kind, number, table, "id") or self._where(kind, number)
        content = self._string(kind, number, table, "content")
        return Rule(
            id=rule_id,
            kind=kind,
            match=match,
            content=self._selector(kind, number, "content", content) if content is not None else None,
            drop=tuple(self._selector(kind, number, "drop", s) for s in self._strings(kind, number, table, "drop")),
            include=tuple(self._pattern(kind, number, "include", p) for p in self._strings(kind, number, table, "include")),
            exclude=tuple(self._pattern(kind, number, "exclude", p) for p in self._strings(kind, number, table, "exclude")),
            cite=self._cite(kind, number, table.get("cite", [])),
        )

    def _check_match(self, kind: str, number: int, match: str) -> None:
        if match == "*":
            return
        if "://" in match:
            if url_problem(match) is not None or not match.lower().startswith(("http://", "https://")):
                raise RulesError(f"{self._where(kind, number, 'match')}: match {match!r} is not an http(s) URL prefix")
            return
        if not _is_domain(match):
            raise RulesError(
                f"{self._where(kind, number, 'match')}: match {match!r} is neither a domain (blog.example.com), "
                "a URL prefix (https://blog.example.com/2024/) nor *"
            )

    def _string(self, kind: str, number: int, table: dict[str, Any], key: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise RulesError(f"{self._where(kind, number)}: [[{kind}]] needs {key} = \"...\"")
            return None
        if not isinstance(value, str) or not value.strip():
            raise RulesError(f"{self._where(kind, number, key)}: {key} must be a non-empty string, got {value!r}")
        return value.strip()

    def _strings(self, kind: str, number: int, table: dict[str, Any], key: str) -> list[str]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise RulesError(f"{self._where(kind, number, key)}: {key} must be a list of non-empty strings, got {value!r}")
        return [item.strip() for item in value]

    def _selector(self, kind: str, number: int, key: str, css: str) -> CSSSelector:
        try:
            return CSSSelector(css, translator="html")
        except SelectorError as exc:
            raise RulesError(f"{self._where(kind, number, key)}: {key}: invalid CSS selector {css!r}: {exc}") from exc

    def _pattern(self, kind: str, number: int, key: str, text: str) -> _Pattern:
        if "://" in text:
            if not text.lower().startswith(("http://", "https://", "*://")):
                raise RulesError(f"{self._where(kind, number, key)}: {key}: {text!r} is not an http(s) URL glob")
            regex = re.compile(".*".join(re.escape(part) for part in text.split("*")), re.IGNORECASE)
            return _Pattern(text, regex)
        if not _is_domain(text):
            raise RulesError(
                f"{self._where(kind, number, key)}: {key}: {text!r} is neither a domain (example.org) nor a URL glob "
                "(https://example.org/papers/*)"
            )
        return _Pattern(text.lower().rstrip("."), None)

    def _cite(self, kind: str, number: int, value: Any) -> tuple[ExtraCitation, ...]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise RulesError(f"{self._where(kind, number, 'cite')}: cite must be a list of {{url = ..., anchor_text = ...}}")
        cites = []
        for item in value:
            unknown = set(item) - {"url", "anchor_text", "context"}
            if unknown:
                raise RulesError(f"{self._where(kind, number, 'cite')}: cite: unknown key {sorted(unknown)[0]!r} (use url, anchor_text, context)")
            url, anchor, context = item.get("url"), item.get("anchor_text", ""), item.get("context", "")
            if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")) or url_problem(url):
                raise RulesError(f"{self._where(kind, number, 'cite')}: cite: url must be an absolute http(s) URL, got {url!r}")
            if not isinstance(anchor, str) or not isinstance(context, str):
                raise RulesError(f"{self._where(kind, number, 'cite')}: cite: anchor_text and context must be strings")
            cites.append(ExtraCitation(url.strip(), " ".join(anchor.split()), " ".join(context.split())))
        return tuple(cites)


_DOMAIN = re.compile(r"^(?:[\w-]+\.)*[\w-]+\.?$")


def _is_domain(text: str) -> bool:
    return bool(_DOMAIN.match(text)) and "/" not in text


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _in_domain(host: str, domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


def _lower_origin(url: str) -> str:
    """``url`` with its scheme and host lower-cased (they are case-insensitive; the path is not)."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"
