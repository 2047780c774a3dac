"""Seeded databases for the benchmarks, cached between runs (seeding 10k cases is not what we time).

A cached database is keyed by what decides its content: the case count, the demo seed, and the
source of the core rules and the migrations. PostgreSQL databases live on the server named by
CASEWATCH_BENCH_PG_URL (else CASEWATCH_TEST_PG_URL, else the local server the tests use).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

SEED = 11
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # a Friday afternoon
CACHE = Path(os.environ.get("CASEWATCH_BENCH_CACHE", "/tmp/casewatch-bench"))  # made on first use
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def content_key() -> str:
    """What decides a seeded database's content: the core rules and the schema."""
    sources = sorted([*(ROOT / "casewatch/core").glob("*.py"), *(ROOT / "casewatch/storage/migrations").rglob("*.py")])
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources))
    return digest.hexdigest()[:12]


async def seed(location: str, cases: int, *, open_only: bool, now: datetime = NOW) -> tuple[float, float]:
    """Seed a demo floor into `location` the way `casewatch seed-demo` does; (wall, CPU) seconds
    spent writing. CPU time, all threads, says what the rate would be on an idle machine."""
    import time

    from casewatch.core.demo import demo_plan
    from casewatch.core.models import Person, Role
    from casewatch.storage.seed import write_demo
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    creator = Person(name="bench", role=Role.LEAD)
    async with await Store.open(resolve_target(location), clock=lambda: now, creator=creator) as store:
        plan = demo_plan(cases, SEED, now, open_only=open_only)
        started, cpu = time.perf_counter(), time.process_time()
        await write_demo(store, plan, "bench")
        return time.perf_counter() - started, time.process_time() - cpu


def sqlite_floor(cases: int) -> Path:
    """A SQLite file with exactly `cases` open cases."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"open-{cases}-seed{SEED}-{content_key()}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        for stale in CACHE.glob(partial.name + "*"):
            stale.unlink()
        asyncio.run(seed(str(partial), cases, open_only=True))
        partial.rename(path)
    return path


def sqlite_live_floor(cases: int) -> Path:
    """A SQLite file with exactly `cases` open cases seeded at the start of this hour, for the boards
    that run on the real clock (the pty figures): their countdowns run as a user's do, where a floor
    seeded days ago would show every clock long breached and almost never changing."""
    CACHE.mkdir(exist_ok=True)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    path = CACHE / f"live-{cases}-seed{SEED}-{content_key()}-{hour:%Y%m%d%H}.db"
    if not path.exists():
        for stale in CACHE.glob(f"live-{cases}-*"):
            stale.unlink()
        partial = path.with_suffix(".partial")
        asyncio.run(seed(str(partial), cases, open_only=True, now=hour))
        partial.rename(path)
    return path


HISTORY_DAYS = 120


async def seed_history(location: str, cases: int) -> int:
    """Write the metrics benchmark's closed history (tests/bench/history.py); returns the events written."""
    from history import write_history

    from casewatch.core.models import Person, Role
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    creator = Person(name="bench", role=Role.LEAD)
    async with await Store.open(resolve_target(location), clock=lambda: NOW, creator=creator) as store:
        return await write_history(store, cases, HISTORY_DAYS, NOW, SEED)


def sqlite_history(cases: int) -> Path:
    """A SQLite file with `cases` closed, reviewed escalations over HISTORY_DAYS days (about 20 events each)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    source = (ROOT / "tests/bench/history.py").read_bytes()
    path = CACHE / f"history-{cases}-seed{SEED}-{content_key()}-{hashlib.sha256(source).hexdigest()[:8]}.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        for stale in CACHE.glob(partial.name + "*"):
            stale.unlink()
        asyncio.run(seed_history(str(partial), cases))
        partial.rename(path)
    return path


# -------------------------------------------------------------------------- PostgreSQL


def pg_admin_url() -> str:
    return os.environ.get("CASEWATCH_BENCH_PG_URL") or os.environ.get("CASEWATCH_TEST_PG_URL") or DEFAULT_PG


def pg_url(database: str) -> str:
    return make_url(pg_admin_url()).set(database=database).render_as_string(hide_password=False)


async def pg_admin(sql: str, *args):
    """Run one statement on the server's maintenance database; returns its rows."""
    import asyncpg

    url = make_url(pg_admin_url())
    connection = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                                       password=url.password, database="postgres")
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def pg_fresh() -> str:
    name = f"cw_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    return name


def pg_drop(name: str) -> None:
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_floor(cases: int) -> str:
    """A database on the server with exactly `cases` open cases; returns its name."""
    name = f"cw_bench_open_{cases}_{SEED}_{content_key()}"
    rows = asyncio.run(pg_admin(
        "SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1", name))
    if not rows or rows[0]["mark"] != "seeded":  # absent, or a run stopped while seeding it
        pg_drop(name)
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
        asyncio.run(seed(pg_url(name), cases, open_only=True))
        asyncio.run(pg_admin(f"COMMENT ON DATABASE \"{name}\" IS 'seeded'"))
    return name


def pg_transactions(name: str) -> int:
    """Transactions the server counted in database `name` (committed and rolled back)."""
    rows = asyncio.run(pg_admin(
        "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1", name))
    return int(rows[0]["n"]) if rows else 0
