"""The collection report: rot and drift per citation, as JSON or as one self-contained HTML file."""

from __future__ import annotations

from archive.report.html import render_html
from archive.report.model import Policy, build_report

__all__ = ["Policy", "build_report", "render_html"]
