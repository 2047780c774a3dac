"""What one child process measures of the storage side."""

from __future__ import annotations

import asyncio

import databases as db


def seed(location: str, cases: int) -> dict:
    """`seed-demo`'s write path on an empty database: a full demo floor (resolved cases too)."""
    seconds, cpu = asyncio.run(db.seed(location, cases, open_only=False))
    return {"cases_per_s": cases / seconds, "cases_per_cpu_s": cases / cpu}
