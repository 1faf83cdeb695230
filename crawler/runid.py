"""Run identifiers: sortable by time, unique enough for concurrent runs."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone


def new_run_id(now: datetime | None = None) -> str:
    """``20261126T145121Z-3f9a1c``: UTC start time plus a random suffix."""
    moment = now or datetime.now(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
