"""Turn `--db` / `CASEWATCH_DB` into a database URL, refusing bad targets before anything is created."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from casewatch.core.errors import InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


@dataclass(frozen=True)
class Target:
    url: URL
    path: Path | None  # the SQLite file, when it is one
    read_only: bool = False  # an SQLite file without write permission: it can be read, never written
    # Read-only, in a directory that cannot hold its `-shm` (a read-only mount, say): opened as
    # immutable, so nobody's later writes are seen (no live follow).
    immutable: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        return str(self.path) if self.path else self.url.render_as_string(hide_password=True)

    def short_name(self) -> str:
        """For a header line: the file name, or host/database."""
        return self.path.name if self.path else f"{self.url.host}/{self.url.database}"


def resolve_target(value: str | os.PathLike) -> Target:
    """A path or an SQLAlchemy URL; raises InvalidInput with one line saying what is wrong."""
    text = str(value).strip()
    if not text:
        raise InvalidInput("empty database location: give a file path or a URL")
    if "://" not in text:
        return _sqlite_target(Path(text).expanduser())
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise InvalidInput(f"malformed database URL {_redact(text)!r}: expected sqlite+aiosqlite:///PATH "
                           "or postgresql+asyncpg://USER@HOST/DB") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise InvalidInput(f"unsupported database URL scheme {url.drivername!r}: use sqlite+aiosqlite or "
                           "postgresql+asyncpg")
    url = url.set(drivername=driver)
    if driver.startswith("sqlite"):
        if not url.database or url.database == ":memory:":
            raise InvalidInput("a SQLite URL needs a file path, e.g. sqlite+aiosqlite:///cases.db")
        return _sqlite_target(Path(url.database).expanduser())
    if not url.database:
        raise InvalidInput(f"PostgreSQL URL {url.render_as_string(hide_password=True)!r} names no database")
    return Target(url=url, path=None)


def _redact(text: str) -> str:
    head, sep, tail = text.partition("@")
    if sep and ":" in head.split("://", 1)[-1]:
        scheme, _, creds = head.partition("://")
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{tail}"
    return text


def _sqlite_target(path: Path) -> Target:
    path = path.absolute()
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory, not a database file")
    if not path.parent.is_dir():
        raise InvalidInput(f"directory {path.parent} does not exist")
    read_only = immutable = False
    if path.exists():
        if not os.access(path, os.R_OK):
            raise InvalidInput(f"cannot read {path}: permission denied")
        # WAL needs `-shm` beside the file, to write and to read: where the directory cannot hold
        # one (a read-only mount or directory), the file can only be read, and only as immutable.
        no_shm = not os.access(path.parent, os.W_OK) and not Path(f"{path}-shm").exists()
        # Write bits, not only access(): root may write anything, but a file made read-only means it.
        read_only = not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222 or no_shm
        immutable = read_only and no_shm
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
        if header and header != SQLITE_MAGIC:
            raise InvalidInput(f"{path} is not a SQLite database")
    elif not os.access(path.parent, os.W_OK):
        raise InvalidInput(f"cannot create {path}: directory {path.parent} is not writable")
    if read_only:
        query = {"mode": "ro", "uri": "true"} | ({"immutable": "1"} if immutable else {})
        url = URL.create("sqlite+aiosqlite", database=f"file:{quote(str(path))}", query=query)
        return Target(url=url, path=path, read_only=True, immutable=immutable)
    return Target(url=URL.create("sqlite+aiosqlite", database=str(path)), path=path)
