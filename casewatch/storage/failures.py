"""Database failures as one line naming the database and what to do, with a true exit code.

Drivers raise their own types (sqlite3, asyncpg, OSError while connecting, SQLAlchemy wrappers);
`translate` turns any of them into a `CasewatchError`: `Unavailable` (exit 4) when trying again
later may work, `InvalidInput` (exit 2) when it will not. Driver class names never reach a user.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from casewatch.core.errors import CasewatchError, InvalidInput, Unavailable

# PostgreSQL SQLSTATEs: transient ones (class 08 connection, 53 resources, 57P0x shutdown, lock and
# statement timeouts) and the two an immediate retry resolves (serialization failure, deadlock).
_PG_RETRY_NOW = {"40001", "40P01"}
_PG_TRANSIENT_CLASSES = ("08", "53")
_PG_TRANSIENT = {"55P03", "57014", "57P01", "57P02", "57P03", "57P05"}
_CLASS_PREFIX = re.compile(r"^<class '[^']*'>:\s*")
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_DAMAGED = ("malformed", "file is not a database", "disk i/o error", "database corrupt",
                   "could not decode to utf-8")
DAMAGED_ADVICE = ("run `casewatch db verify` (`casewatch db rebuild` repairs what it lists); if that fails too, "
                  "restore it from a backup (sqlite3's .recover can save what is readable)")
UNREADABLE = (ValueError, KeyError, TypeError, IndexError, UnicodeError, AttributeError, OverflowError)
"""What decoding a stored row raises when its bytes are not what casewatch wrote: JSON that does not
parse, a timestamp or enum value that is not one, a payload missing a field (pydantic's
ValidationError is a ValueError)."""


def _original(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers and adapters."""
    seen = exc
    while True:
        inner = getattr(seen, "orig", None) or (seen.__cause__ if isinstance(seen, SQLAlchemyError) else None)
        if inner is None or inner is seen:
            return seen
        seen = inner


def sqlstate(exc: BaseException) -> str | None:
    for candidate in (getattr(exc, "orig", None), _original(exc), exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


def reason(exc: BaseException) -> str:
    """The driver's one-line reason, without SQL, stack or class names."""
    original = _original(exc)
    text = _CLASS_PREFIX.sub("", str(original).strip())
    text = text.splitlines()[0].strip() if text else ""
    return text or type(original).__name__.lower()


def retry_now(exc: BaseException) -> bool:
    """A serialization failure or deadlock: the transaction was rolled back and may simply run again."""
    return sqlstate(exc) in _PG_RETRY_NOW


def lock_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == "55P03"


def is_database_failure(exc: BaseException) -> bool:
    return isinstance(exc, SQLAlchemyError | sqlite3.Error | OSError | asyncio.TimeoutError | TimeoutError) or (
        type(exc).__module__.startswith("asyncpg"))


_SQLITE_FULL = "database or disk is full"
_PG_DISK_FULL = "53100"
LOW_SPACE_BYTES = 1024 * 1024
"""Below this much free space, an SQLite I/O error (or a file it could not create) is the disk
being full: SQLite reports a failed write to its `-shm` or journal as a "disk I/O error"."""


def free_bytes(path: Path) -> int | None:
    """The space left to us on the file system holding `path` (its directory when it does not exist)."""
    try:
        stats = os.statvfs(path if path.exists() else path.parent)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _disk_full(exc: BaseException, lowered: str, path: Path | None) -> bool:
    original = _original(exc)
    if _SQLITE_FULL in lowered or sqlstate(exc) == _PG_DISK_FULL:
        return True
    if isinstance(original, OSError) and original.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if path is not None and ("disk i/o error" in lowered or "unable to open database file" in lowered):
        free = free_bytes(path)
        return free is not None and free < LOW_SPACE_BYTES
    return False


def translate(exc: BaseException, describe: str, *, writing: bool, path: Path | None = None,
              held_by: str | None = None) -> CasewatchError:
    """One line for a failure of the database `describe` (the SQLite file `path`); `writing` when a
    write was under way; `held_by`: who holds the lock a lock timeout waited for (storage.lock_holders)."""
    if isinstance(exc, CasewatchError):
        return exc
    why = reason(exc)
    lowered = why.lower()
    code = sqlstate(exc)
    unwritten = "nothing was written; " if writing else ""
    if _disk_full(exc, lowered, path):  # before "damaged": following that advice would throw a healthy file away
        where = describe if path is None else str(path)
        return Unavailable(f"the disk holding {'database ' if path is None else ''}{where} is full; nothing was "
                           "written; free some space and try again")
    if any(mark in lowered for mark in _SQLITE_BUSY):
        return Unavailable(f"database {describe} is busy: another process held its write lock too long; "
                           f"{unwritten}try again")
    if "readonly database" in lowered or "read-only" in lowered:
        return InvalidInput(f"database {describe} is read-only: this command writes; "
                            "ask for write access or work on a copy")
    if any(mark in lowered for mark in _SQLITE_DAMAGED):
        return damaged(describe, why.split(" with text ")[0])  # not the undecodable row itself
    if code == "55P03":
        holder = f"; {held_by}" if held_by else ""
        ask = ", or ask the database administrator to end that session" if held_by else ""
        return Unavailable(f"database {describe}: waited longer than the lock timeout for a lock another session "
                           f"holds ({'a write to the log or a case' if writing else 'a read'}; {why}{holder}): "
                           f"{unwritten}try again{ask} (CASEWATCH_LOCK_TIMEOUT sets the wait)")
    if code == "57014" and "statement timeout" in lowered:
        return Unavailable(f"database {describe}: a statement ran longer than the statement timeout ({why}): "
                           f"{unwritten}try again (CASEWATCH_STATEMENT_TIMEOUT sets the limit)")
    if code in _PG_RETRY_NOW or code in _PG_TRANSIENT or (code or "").startswith(_PG_TRANSIENT_CLASSES):
        return Unavailable(f"database {describe} is unavailable ({why}): {unwritten}try again in a moment")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        outcome = "the write may not have completed, check before repeating it; " if writing else ""
        return Unavailable(f"lost the connection to database {describe} ({why}): {outcome}try again")
    if isinstance(_original(exc), OSError | asyncio.TimeoutError | TimeoutError) or "connection" in lowered:
        return Unavailable(f"cannot reach database {describe} ({why}): is the server running? try again")
    if code is not None and code.startswith("28"):
        return InvalidInput(f"database {describe} refused the login ({why}): check the user and password")
    if code == "42501":
        return InvalidInput(f"database {describe} refused this login ({why}): {unwritten}on a team database a "
                            "lead maps a login with `casewatch team grant NAME --login LOGIN`, and nobody changes "
                            "or removes events")
    if code == "3D000":
        return InvalidInput(f"database {describe} does not exist ({why}): create it first")
    return InvalidInput(f"database {describe} failed ({why}): {unwritten}check the database with its administrator")


def damaged(describe: str, why: str) -> InvalidInput:
    """The database holds what casewatch cannot read: say so, and what to do, in one line."""
    return InvalidInput(f"database {describe} is damaged ({why[:_WHY_SHOWN]}): {DAMAGED_ADVICE}")


_WHY_SHOWN = 120  # characters of the reason quoted: a decode error may quote a whole row


def unreadable(exc: BaseException, describe: str) -> InvalidInput:
    """A stored row that does not decode (see UNREADABLE)."""
    first = (str(exc).strip().splitlines() or [""])[0].strip()
    return damaged(describe, f"a stored row cannot be read: {first or type(exc).__name__}")


def failure(exc: BaseException, describe: str, *, writing: bool, path: Path | None = None,
            held_by: str | None = None) -> CasewatchError | None:
    """`exc` as one line when it is a database failure or a row that does not decode; None for
    anything else (a bug, which should be seen as one)."""
    if is_database_failure(exc):
        return translate(exc, describe, writing=writing, path=path, held_by=held_by)
    if isinstance(exc, UNREADABLE):
        return unreadable(exc, describe)
    return None
