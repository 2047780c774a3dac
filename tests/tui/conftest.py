"""A seeded board database on a frozen clock, and the app pointed at it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from casewatch.core import commands as c
from casewatch.core.alerts import AlertSettings, Scope
from casewatch.core.demo import demo_plan
from casewatch.core.models import Person, Role, Severity
from casewatch.storage.audit_marks import save_mark
from casewatch.storage.checked_log import AuditMark
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp
from tests.conftest import FrozenClock

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
BRACKETS = "Login fails [prod] for [b]ACME"
QUIET = AlertSettings(cases=Scope.NONE)


async def seed(path, clock: FrozenClock, cases: int = 24) -> None:
    async with await Store.open(resolve_target(path), clock=clock, creator=LEAD) as store:
        await write_demo(store, demo_plan(cases, seed=7, now=clock.now), "dana")
        await store.execute(c.NewCase(title=BRACKETS, customer="[ACME] Corp", severity=Severity.SEV1), "dana")


async def audit(path) -> AuditMark:
    async with await Store.open(resolve_target(path)) as store:
        return await store.audit_since(None)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> tuple[Path, AuditMark]:
    """Seed once per session, and audit it once; each test gets its own copy."""
    from datetime import UTC, datetime

    path = tmp_path_factory.mktemp("template") / "board.db"
    asyncio.run(seed(path, FrozenClock(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))))
    return path, asyncio.run(audit(path))


@pytest.fixture
def board_db(seeded_template, tmp_path):
    """A copy of the seeded board, with the audit a board made of it before: a start then checks only
    what a test adds, as a lead's board does from its second start (the mark's own tests are in
    tests/storage/test_quarantine.py)."""
    template, mark = seeded_template
    path = tmp_path / "board.db"
    shutil.copy(template, path)
    save_mark(resolve_target(path), mark)
    return path


@pytest.fixture
def make_app(board_db, frozen_clock):
    """The app on the seeded board. Alerts are off unless a test asks for them: dana leads the demo
    shift, and the start-up summary's toast would cover every picture (tests/tui/test_alerts.py has them)."""
    def make(live: bool = False, actor: str = "dana", alerts: AlertSettings = QUIET, **options) -> CasewatchApp:
        return CasewatchApp(resolve_target(board_db), actor, zone="Europe/Berlin", clock=frozen_clock, live=live,
                            alerts=alerts, **options)
    return make


@pytest.fixture
async def writer(board_db, frozen_clock):
    """Another process's view of the same database: writes the app did not make."""
    async with await Store.open(resolve_target(board_db), clock=frozen_clock) as store:
        yield store
