"""Unread marks (core.unread), what a person did about alerts (core.alert_marks) and the file
that keeps both on their machine (casewatch.local_marks): damaged files ignored, written whole."""

from __future__ import annotations

import json
from datetime import timedelta

from casewatch.core import commands as c
from casewatch.core.alert_marks import SNOOZE_FOR, AlertMarks, alert_key, snooze_words
from casewatch.core.alerts import Alert
from casewatch.core.case_filter import Seen, parse_filter
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.models import Severity
from casewatch.core.unread import LastSeen, Unread
from casewatch.local_marks import load_marks, read_seen
from tests.core.floor import Floor
from tests.core.test_case_filter import CLOCKS, FLOOR, T, case

LATER = T + timedelta(minutes=5)


def test_a_case_is_unread_when_someone_else_changed_it_since_the_viewer_last_opened_it():
    seen = LastSeen(since=T, versions={"CW-1": 3})
    assert not seen.is_unread(case("CW-1", version=3, updated_by="tom", updated_at=LATER), "dana")
    assert seen.is_unread(case("CW-1", version=4, updated_by="tom", updated_at=LATER), "dana")
    assert not seen.is_unread(case("CW-1", version=4, updated_by="dana", updated_at=LATER), "dana")  # her own
    assert not seen.is_unread(case("CW-2", version=9, updated_by="tom", updated_at=T), "dana")  # before the marks
    assert seen.is_unread(case("CW-2", version=1, updated_by="tom", updated_at=LATER), "dana")  # new since
    opened = case("CW-1", version=4, updated_by="tom", updated_at=LATER)
    assert seen.saw(opened) and not seen.saw(opened) and not seen.is_unread(opened, "dana")
    assert seen.kept({"CW-2"}) == {}  # closed cases are forgotten


def test_your_own_later_change_leaves_someone_elses_change_unread():
    floor = Floor()
    opened = floor.do(c.NewCase(title="Slow", customer="ACME", severity=Severity.SEV3), "lead", at=T)
    seen = LastSeen(since=T - timedelta(hours=1))
    seen.saw(opened)
    floor.do(c.Note(case_id=opened.id, text="mine"), "agent", at=LATER)
    mine = floor.do(c.Note(case_id=opened.id, text="and mine"), "lead", at=LATER)
    assert mine.updated_by == "lead" and seen.is_unread(mine, "lead")  # the agent's change, unread
    mine = floor.do(c.Note(case_id=opened.id, text="again"), "lead", at=LATER)
    assert seen.is_unread(mine, "lead")  # still: two of her own changes after it
    assert seen.saw(mine) and not seen.is_unread(mine, "lead")  # opened: read
    assert not seen.is_unread(floor.do(c.Note(case_id=opened.id, text="x"), "lead", at=LATER), "lead")
    never = floor.do(c.NewCase(title="New", customer="Initech", severity=Severity.SEV3), "agent", at=LATER)
    never = floor.do(c.Note(case_id=never.id, text="seen it"), "lead", at=LATER)
    assert seen.is_unread(never, "lead")  # never opened, changed by the agent after the marks began
    assert not LastSeen(since=LATER).is_unread(never, "lead")  # before they began
    assert floor.replayed() == floor.cases  # the fold keeps it, replayed or stored


def test_is_unread_looks_each_case_up_in_the_marks():
    cases = {c.id: c.model_copy(update={"updated_at": LATER, "version": 2}) for c in FLOOR}
    unread = Unread(cases, LastSeen(since=T, versions={"CW-1": 2, "CW-2": 1}), "dana")
    assert "CW-2" in unread and "CW-1" not in unread and "CW-404" not in unread and 7 not in unread
    assert sorted(unread) == ["CW-2", "CW-3", "CW-4"] and len(unread) == 3
    chosen = parse_filter("is:unread sev:2")
    assert chosen.asks_unread and not parse_filter("unread is:mine").asks_unread
    assert parse_filter("is:mine,unread").asks_unread
    assert [c.id for c in cases.values() if chosen.matches(c, Seen("dana", T, CLOCKS, unread))] == ["CW-2"]


def alert(severity: Severity = Severity.SEV2) -> Alert:
    return Alert("CW-1", "t", severity, ClockKind.OWNER, ClockState.BREACHED, T, T)


def test_a_snooze_silences_its_case_until_it_ends_or_the_severity_rises():
    marks = AlertMarks()
    marks.snooze("CW-1", Severity.SEV2, T, SNOOZE_FOR[0])
    assert not marks.rings(alert(), T + timedelta(minutes=14))
    assert not marks.rings(alert(Severity.SEV3), T)  # lower is no reason to ring
    assert marks.rings(alert(Severity.SEV1), T) and "CW-1" not in marks.snoozed  # a rise ends it
    marks.snooze("CW-1", Severity.SEV2, T, SNOOZE_FOR[2])
    assert marks.rings(alert(), T + timedelta(hours=1)) and not marks.snoozed
    assert [snooze_words(length) for length in SNOOZE_FOR] == ["15 m", "30 m", "1 h"]
    marks.acknowledged.add(alert_key(alert()))
    marks.snooze("CW-1", Severity.SEV2, T, SNOOZE_FOR[0])
    assert marks.kept({"CW-1"}, T).acknowledged == {"CW-1 owner breached 2026-11-27T14:00:00Z"}
    assert marks.kept(set(), T) == AlertMarks()
    assert marks.kept({"CW-1"}, T + timedelta(hours=1)).snoozed == {}


def test_the_marks_file_keeps_each_database_apart_and_a_damaged_one_is_ignored_with_a_reason(tmp_path):
    path = tmp_path / "marks" / "dana.json"
    marks, problem = load_marks("dana", "one.db", T, path)
    assert problem is None and marks.seen.since == T and marks.fresh and not path.exists()
    marks.seen.versions["CW-1"] = 4
    marks.alerts.snooze("CW-1", Severity.SEV2, T, SNOOZE_FOR[0])
    marks.save({"CW-1"}, T)
    other, _ = load_marks("dana", "two.db", LATER, path)
    other.save(set(), LATER)  # another database's section leaves this one as it was
    again, problem = load_marks("dana", "one.db", LATER, path)
    assert problem is None and again.seen.since == T and again.seen.versions == {"CW-1": 4} and not again.fresh
    assert again.alerts.snoozed["CW-1"].until == T + SNOOZE_FOR[0]
    assert read_seen("dana", "one.db", path)[0] == again.seen and read_seen("dana", "three.db", path) == (None, None)
    assert not list(path.parent.glob("*.partial"))  # written whole, then renamed
    for damage in ("{not json", json.dumps([1]), json.dumps({"format": 1, "databases": {"one.db": {"seen": 3}}})):
        path.write_text(damage, encoding="utf-8")
        fresh, problem = load_marks("dana", "one.db", LATER, path)
        assert problem is not None and str(path) in problem and fresh.seen.since == LATER and not fresh.seen.versions
        assert fresh.fresh
        assert read_seen("dana", "one.db", path)[0] is None
