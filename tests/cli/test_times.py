"""Times and durations at the CLI: --at inside the case's life, durations from 1 minute to 30 days,
every --tz checked, and far-away promises carrying their year."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from casewatch.cli.main import main


@pytest.fixture
def cw(tmp_path, capsys):
    db = str(tmp_path / "times.db")

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", db, "--as", "dana"])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2",
               "--at", "2025-11-27T10:00:00Z")[0] == 0
    return run


UPDATE = ("case", "update", "CW-1001", "--known", "k", "--investigating", "i", "--next-milestone", "m")


@pytest.mark.parametrize(("args", "message"), [
    (("case", "note", "CW-1001", "x", "--at", "2025-11-27T09:59:59Z"),
     "--at 2025-11-27T09:59:59Z is before CW-1001 was escalated (2025-11-27T10:00:00Z)"),
    (("case", "note", "CW-1001", "x", "--at", "1999-12-31T23:59:59Z"), "--at 1999-12-31T23:59:59Z is before 2000-01-01"),
    (("case", "new", "--title", "t", "--customer", "c", "--severity", "1", "--at", "0001-01-01T00:00:00Z"),
     "is before 2000-01-01"),
    ((*UPDATE, "--next-update-in", "99999999d"), "bad duration '99999999d': must be at most 30 days"),
    ((*UPDATE, "--next-update-in", "31d"), "bad duration '31d': must be at most 30 days"),
    ((*UPDATE, "--next-update-in", "30s"), "bad duration '30s': must be at least 1 minute"),
    ((*UPDATE, "--next-update-in", "0.4s"), "bad duration '0.4s': must be a whole number of seconds"),
    ((*UPDATE, "--next-update-in", "1" + "0" * 400 + "d"), "must be at most 30 days"),
    (("case", "show", "CW-1001", "--tz", "Nowhere/X"), "--tz: unknown time zone 'Nowhere/X'"),
    (("cases", "--tz", "Nowhere/X"), "--tz: unknown time zone 'Nowhere/X'"),
    (("cases", "--json", "--tz", "Nowhere/X"), "--tz: unknown time zone 'Nowhere/X'"),
    (("people", "list", "--tz", ""), "--tz: unknown time zone ''"),
    (("policy", "show", "--tz", "../../etc/passwd"), "--tz: unknown time zone '../../etc/passwd'"),
    (("case", "note", "CW-1001", "x", "--tz", "Nowhere/X"), "--tz: unknown time zone 'Nowhere/X'"),
])
def test_bad_times_are_exit_2_in_one_line_and_write_nothing(cw, args, message):
    code, out, err = cw(*args)
    assert (code, out) == (2, "")
    assert err.startswith("casewatch: ") and message in err and err.count("\n") == 1
    timeline = json.loads(cw("case", "show", "CW-1001", "--json")[1])["timeline"]
    assert [e["type"] for e in timeline] == ["case_created"]


def test_a_backfill_at_the_escalation_instant_is_fine(cw):
    assert cw("case", "note", "CW-1001", "x", "--at", "2025-11-27T10:00:00Z")[0] == 0


def test_a_promise_more_than_six_days_away_names_its_year(cw):
    code, out, _ = cw(*UPDATE, "--next-update-in", "20d")
    assert code == 0
    [promise] = [line for line in out.splitlines() if line.startswith("You will hear from us again by")]
    year = f" {(datetime.now(UTC) + timedelta(days=20)).year} "
    assert year in promise
    code, out, _ = cw(*UPDATE, "--next-update-in", "45m")
    [promise] = [line for line in out.splitlines() if line.startswith("You will hear from us again by")]
    assert f" {datetime.now(UTC).year} " not in promise


def test_a_policy_duration_over_30_days_fails_policy_check(cw, tmp_path):
    policy = cw("policy", "show")[1].replace('internal_review_every = "40h"', 'internal_review_every = "45d"')
    path = tmp_path / "long.toml"
    path.write_text(policy)
    code, _, err = cw("policy", "check", str(path))
    assert code == 2 and "internal_review_every: bad duration '45d': must be at most 30 days" in err
