"""A sync pass on a real database (SQLite and PostgreSQL) against a Zendesk on 127.0.0.1: a tracker
that rate-limits, fails and drops the connection mid-stream; retries that run out; a sync SIGKILLed
while it waits for a page, then run again; and on PostgreSQL a board that sees a synced change."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from casewatch.cli.sync_command import LiveSource, sync_pass
from casewatch.core.errors import Unavailable
from casewatch.core.models import Person, Role, Severity
from casewatch.core.tracker import Source, SourceSettings
from casewatch.storage.store import Store
from casewatch.storage.sync import source_states_now
from casewatch.storage.target import resolve_target
from tests.sources.trackers import Tracker, reset, status, zd_page, zd_ticket
from tests.team.boards import HeadlessBoard

LEAD = Person(name="dana", role=Role.LEAD, tz="UTC")


def zendesk_source(url: str) -> LiveSource:
    settings = SourceSettings(kind="zendesk", url=url, email="lead@acme.com", token_env="CASEWATCH_ZD_TOKEN")
    return LiveSource(Source.of("zd", settings), settings)


@pytest.fixture
def tracker(httpserver, monkeypatch):
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", "t0ken")
    return Tracker(httpserver).serve_zendesk()


class Waits:
    """The waits a pass asked for, recorded instead of slept."""

    def __init__(self):
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


async def linked(store: Store) -> dict[str, Severity]:
    return {case.source.id: case.severity for case in await store.open_cases() if case.source}


async def test_429_500_and_a_reset_mid_stream_are_waited_out(db_target, tracker, frozen_clock):
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1"), "c1": zd_page([zd_ticket(2, priority="urgent")], "c2"),
                     "c2": zd_page([], "c2", end=True)}
    tracker.failures = {"c1": [status(429, {"Retry-After": "7"}), status(500), reset]}
    waits = Waits()
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        roster = await store.roster()
        report = await sync_pass(store, zendesk_source(tracker.url), "dana", roster, sleep=waits)
        assert (report.new, report.pages) == (2, 3)
        assert waits.asked == [7.0, 0.5, 1.0]
        assert await linked(store) == {"1": Severity.SEV2, "2": Severity.SEV1}
        state = (await source_states_now(store))["zd"]
        assert (state.cursor, state.last_success, state.failure) == ("c2", frozen_clock.now, None)
        assert not await store.verify()


async def test_retries_running_out_keep_what_committed_and_record_the_failure(db_target, tracker, frozen_clock):
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1"), "c1": zd_page([zd_ticket(2)], "c2", end=True)}
    tracker.failures = {"c1": [status(503)] * 5}
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        roster = await store.roster()
        with pytest.raises(Unavailable, match="source zd: HTTP 503 .* 5 times"):
            await sync_pass(store, zendesk_source(tracker.url), "dana", roster, sleep=Waits())
        assert await linked(store) == {"1": Severity.SEV2}
        state = (await source_states_now(store))["zd"]
        assert (state.cursor, state.failure, state.failing_since) == ("c1", "unavailable", frozen_clock.now)
        assert state.label(frozen_clock.now, "14:00") == "zd ✖ unavailable since 14:00"
        frozen_clock.advance(minutes=1)
        report = await sync_pass(store, zendesk_source(tracker.url), "dana", roster, sleep=Waits())
        assert report.new == 1 and await linked(store) == {"1": Severity.SEV2, "2": Severity.SEV2}
        state = (await source_states_now(store))["zd"]
        assert state.label(frozen_clock.advance(seconds=40)) == "zd ✓ 40s ago"


def test_a_sync_killed_while_it_reads_then_run_again_gives_exactly_the_cases(tracker, tmp_path):
    arrived, release = threading.Event(), threading.Event()

    def slow(request):
        arrived.set()
        release.wait(20)
        return status(200, body=json.dumps(zd_page([zd_ticket(3)], "c2")))(request)

    tracker.pages = {"start": zd_page([zd_ticket(1), zd_ticket(2)], "c1"), "c1": slow,
                     "c2": zd_page([zd_ticket(4)], "c3", end=True)}
    config = tmp_path / "xdg" / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[sources.zd]\nkind = "zendesk"\nurl = "{tracker.url}"\nemail = "lead@acme.com"\n'
                      'token_env = "CASEWATCH_ZD_TOKEN"\n')
    env = os.environ | {"CASEWATCH_DB": str(tmp_path / "cw.db"), "CASEWATCH_USER": "dana",
                        "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    command = [sys.executable, "-m", "casewatch.cli.main", "sync"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert arrived.wait(30), process.stderr.read() if process.poll() is not None else "no request"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        release.set()
    assert process.returncode == -signal.SIGKILL
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "zd: 2 new, 0 changed, 0 unchanged, 0 no longer escalated\n")
    listed = subprocess.run([sys.executable, "-m", "casewatch.cli.main", "cases", "--all", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)
    ids = sorted(case["source"]["id"] for case in json.loads(listed.stdout))
    assert ids == ["1", "2", "3", "4"]
    keys = [key for _, key, _ in tracker.seen]
    assert keys == ["start", "c1", "c1", "c2"]  # resumed after the committed first page


async def test_a_board_on_postgresql_sees_a_synced_change_through_the_notify_feed(pg_url, tracker, frozen_clock):
    target = resolve_target(pg_url)
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True),
                     "c1": zd_page([zd_ticket(1, priority="urgent", updated="2026-11-27T10:30:00Z")], "c2",
                                   end=True)}
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as store:
        roster = await store.roster()
        await sync_pass(store, zendesk_source(tracker.url), "dana", roster, sleep=Waits())
        board = HeadlessBoard(await Store.open(target))
        await board.start()
        try:
            assert await board.until(lambda: board.live, 10)
            [case_id] = board.cases
            assert board.cases[case_id].severity is Severity.SEV2
            start = time.monotonic()
            await sync_pass(store, zendesk_source(tracker.url), "dana", roster, sleep=Waits())
            assert await board.until(lambda: board.cases[case_id].severity is Severity.SEV1, 5)
            assert time.monotonic() - start < 5
        finally:
            await board.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_follow_logs_a_pass_that_changed_something_and_stops_cleanly_on_a_signal(tracker, tmp_path, signum):
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True), "c1": zd_page([], "c1", end=True)}
    config = tmp_path / "xdg" / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[sources.zd]\nkind = "zendesk"\nurl = "{tracker.url}"\nemail = "lead@acme.com"\n'
                      'token_env = "CASEWATCH_ZD_TOKEN"\n')
    env = os.environ | {"CASEWATCH_DB": str(tmp_path / "cw.db"), "CASEWATCH_USER": "dana",
                        "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    process = subprocess.Popen([sys.executable, "-m", "casewatch.cli.main", "sync", "--follow", "--every", "1m"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()
        assert first.endswith(" UTC zd: 1 new, 0 changed, 0 unchanged, 0 no longer escalated\n"), first
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert (out, err.splitlines()[-1].endswith(" UTC stopped")) == ("", True)


def test_follow_stops_promptly_while_the_tracker_asks_it_to_wait(tracker, tmp_path):
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1"), "c1": zd_page([], "c1", end=True)}
    limited = threading.Event()

    def rate_limit(request):
        limited.set()
        return status(429, {"Retry-After": "240"})(request)

    tracker.failures = {"c1": [rate_limit]}
    config = tmp_path / "xdg" / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[sources.zd]\nkind = "zendesk"\nurl = "{tracker.url}"\nemail = "lead@acme.com"\n'
                      'token_env = "CASEWATCH_ZD_TOKEN"\n')
    env = os.environ | {"CASEWATCH_DB": str(tmp_path / "cw.db"), "CASEWATCH_USER": "dana",
                        "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    process = subprocess.Popen([sys.executable, "-m", "casewatch.cli.main", "sync", "--follow"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert limited.wait(30)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)  # not the 240 s the tracker asked for
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and err.splitlines()[-1].endswith(" UTC stopped")
