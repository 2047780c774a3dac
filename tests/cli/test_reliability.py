"""Concurrent writers and crashes: every acknowledged action is in the log, nothing is half-written."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
from pathlib import Path

import pytest

from casewatch.cli.main import main
from tests.cli.writer import main as writer_main
from tests.forked import Forked

ROOT = Path(__file__).resolve().parents[2]
NOTES = 40  # per writer
WORKERS, ACTIONS = 4, 100  # 400 actions racing on 3 cases: every one contended, in a fraction of the time


def setup_floor(db: str, cases: int) -> list[str]:
    assert main(["people", "list", "--db", db, "--as", "lead"]) == 0  # creates the database, lead first
    ids = []
    for n in range(cases):
        assert main(["case", "new", "--title", f"case {n}", "--customer", "c", "--severity", "SEV2",
                     "--db", db, "--as", "lead"]) == 0
        ids.append(f"CW-{1001 + n}")
    return ids


def writer(db: str, worker: int, count: int, cases: list[str], *extra: str) -> Forked:
    """A writer process of its own (forked with casewatch imported: see tests.forked)."""
    return Forked(writer_main, [db, str(worker), str(count), ",".join(cases), *extra], cwd=ROOT)


def logged_markers(db: str, case_ids: list[str], capsys) -> tuple[set[str], list[dict]]:
    """Markers present in the log, read back through the CLI, and every case as shown."""
    capsys.readouterr()
    markers, shown = set(), []
    for case_id in case_ids:
        assert main(["case", "show", case_id, "--json", "--db", db, "--as", "lead"]) == 0
        case = json.loads(capsys.readouterr().out)
        shown.append(case)
        for event in case["timeline"]:
            payload = event["payload"]
            markers.add(payload.get("text") or payload.get("notes") or payload.get("known"))
    return markers, shown


def assert_projection_matches_replay(db: str) -> None:
    import asyncio

    from casewatch.core.projection import replay_cases
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    async def check():
        async with await Store.open(resolve_target(db)) as store:
            replayed = replay_cases(await store.all_events())
            stored = await store.open_cases()
            assert stored
            for case in stored:
                assert replayed[case.id].model_dump(exclude={"updated_at", "updated_by"}) == \
                    case.model_dump(exclude={"updated_at", "updated_by"})
                assert case.version == len(await store.case_events(case.id))

    asyncio.run(check())


@pytest.mark.slow
def test_concurrent_cli_writers(db_url, capsys):
    cases = setup_floor(db_url, 3)
    procs = [writer(db_url, w, ACTIONS, cases) for w in range(WORKERS)]
    acknowledged, failures = set(), []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        assert "database is locked" not in out + err
        for line in out.splitlines():
            if line.startswith("ok "):
                acknowledged.add(line[3:])
            else:
                failures.append(line)
    assert failures == []
    assert len(acknowledged) == WORKERS * ACTIONS
    markers, _ = logged_markers(db_url, cases, capsys)
    assert acknowledged <= markers
    assert_projection_matches_replay(db_url)


@pytest.mark.slow
def test_notes_never_fail_under_contention(db_url, capsys):
    """12 writer processes add 40 notes each to one case at once: a note does not depend on the case's
    state, so every one lands (they queue on the case row and back off with jitter, never give up)."""
    [case] = setup_floor(db_url, 1)
    procs = [writer(db_url, w, NOTES, [case], "store-notes") for w in range(12)]
    outputs = [proc.communicate(timeout=900) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 12, [err for _, err in outputs]
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert [line for line in lines if not line.startswith("ok ")] == []
    markers, [shown] = logged_markers(db_url, [case], capsys)
    assert {line[3:] for line in lines} <= markers and len(lines) == 12 * NOTES
    assert shown["version"] == 1 + 12 * NOTES


@pytest.mark.slow
def test_killed_writers_leave_no_half_actions(tmp_path, capsys):
    db = str(tmp_path / "crash.db")
    cases = setup_floor(db, 2)
    rng = random.Random(20261127)
    acknowledged: set[str] = set()
    for kill in range(12):
        proc = writer(db, kill, 10_000, cases)
        wanted = rng.randint(1, 15)
        seen = 0
        while seen < wanted:
            line = proc.stdout.readline()
            assert line, proc.communicate(timeout=60)[1]
            if line.startswith("ok "):
                acknowledged.add(line.split()[1])
                seen += 1
        os.kill(proc.pid, signal.SIGKILL)  # mid-burst: the next action is already under way
        rest, _ = proc.communicate(timeout=60)
        acknowledged |= {line.split()[1] for line in rest.splitlines() if line.startswith("ok ")}
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    markers, shown = logged_markers(db, cases, capsys)
    assert acknowledged <= markers
    assert_projection_matches_replay(db)
