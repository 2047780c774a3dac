"""Where a board keeps its last audit of a database, per machine: the next start then checks only
the cases that changed since. A cache, never authority: a missing, unreadable or foreign file
means a whole audit, and `casewatch db audit` always reads the whole log."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson

from casewatch import paths
from casewatch.storage.checked_log import AuditMark
from casewatch.storage.target import Target


def mark_path(target: Target) -> Path:
    key = hashlib.sha256(target.describe().encode()).hexdigest()[:20]
    return paths.data_dir() / "audits" / f"{key}.json"


def load_mark(target: Target) -> AuditMark | None:
    try:
        raw = orjson.loads(mark_path(target).read_bytes())
        mark = AuditMark(read=int(raw["read"]), last_id=int(raw["last_id"]),
                         floor=(int(raw["floor"][0]), int(raw["floor"][1])),
                         quarantined={str(case): int(n) for case, n in raw["quarantined"].items()})
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return mark if raw.get("database") == target.describe() else None


def save_mark(target: Target, mark: AuditMark) -> None:
    """Written whole or not at all; a board that cannot write it only audits the whole log next time."""
    path = mark_path(target)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(orjson.dumps({"database": target.describe(), "read": mark.read, "last_id": mark.last_id,
                                          "floor": list(mark.floor), "quarantined": mark.quarantined}))
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
