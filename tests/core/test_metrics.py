"""Escalation metrics over hand-built histories; every expected value is worked out beside it.

The default policy, 24x7 calendars: SEV1 owner 15m, customer update every 20m; SEV2 owner 30m,
update every 1h, here paused while waiting on the customer.
"""

from datetime import UTC, datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.metrics import ShiftLeads, case_facts, nearest_rank, report
from casewatch.core.models import Event, EventType, Severity, Status
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy
from casewatch.core.policy_history import PolicyHistory
from tests.core.floor import Floor

SEV2_RUNS = 'route = "support"\nmust_involve = ["lead"]\ncalendar = "24x7"\npause_updates_while_waiting = false'
assert SEV2_RUNS in DEFAULT_POLICY_TOML
POLICY = parse_policy(DEFAULT_POLICY_TOML.replace(SEV2_RUNS, SEV2_RUNS.replace("false", "true")))
T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def shift(lead: str, minutes: float) -> Event:
    return Event(type=EventType.SHIFT_STARTED, actor=lead, occurred_at=at(minutes), recorded_at=at(minutes),
                 payload={"lead": lead, "tz": "UTC"})


def update(floor: Floor, cid: str, minutes: float) -> None:
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"), at=at(minutes))


def new(floor: Floor, severity: Severity, minutes: float) -> str:
    return floor.do(c.NewCase(title="t", customer="ACME", severity=severity), "agent", at=at(minutes)).id


def four_cases() -> tuple[Floor, list[Event]]:
    """A (SEV1 @0): owner @10, updates @15 and @30, resolved @40 — never late.
    B (SEV1 @5): no update, so the update clock breaches @25; downgraded to SEV2 @30; owner @35.
    C (SEV2 @10): owner @20, to incident @25, returned @28, waiting on the customer from @30 on
      (its update clock, due @70, paused with 40 minutes left).
    D (SEV2 @20): never owned; its update clock breaches @80.
    E (SEV1 @250): escalated after the as-of instant @200 used below.
    Shift leads: `lead` from -120, `spec` from 15 (so D was escalated under spec)."""
    floor = Floor(POLICY)
    a, b, cc, d = (new(floor, sev, minutes) for sev, minutes in
                   ((Severity.SEV1, 0), (Severity.SEV1, 5), (Severity.SEV2, 10), (Severity.SEV2, 20)))
    floor.do(c.Assign(case_id=a, name="spec"), at=at(10))
    update(floor, a, 15)
    update(floor, a, 30)
    floor.do(c.ChangeStatus(case_id=a, status=Status.RESOLVED), at=at(40))
    floor.do(c.ChangeSeverity(case_id=b, severity=Severity.SEV2, reason="one region only"), at=at(30))
    floor.do(c.Assign(case_id=b, name="spec"), at=at(35))
    floor.do(c.Assign(case_id=cc, name="spec"), at=at(20))
    floor.do(c.ChangeRoute(case_id=cc, route="incident", reason="spreading"), at=at(25))
    floor.do(c.ReturnCase(case_id=cc, missing=("logs",), reason="no logs"), at=at(28))
    floor.do(c.ChangeStatus(case_id=cc, status=Status.WAITING_ON_CUSTOMER), at=at(30))
    assert d == "CW-4"
    new(floor, Severity.SEV1, 250)
    return floor, [shift("lead", -120), shift("spec", 15)]


def histories(floor: Floor) -> list[list[Event]]:
    ids = sorted({e.case_id for e in floor.log if e.case_id})
    return [[e for e in floor.log if e.case_id == cid] for cid in ids]


def metrics(as_of: float, since: float | None = None, until: float | None = None) -> dict:
    floor, leads = four_cases()
    return report(histories(floor), leads, PolicyHistory.only(floor.policy), as_of=at(as_of),
                  since=None if since is None else at(since), until=None if until is None else at(until)).as_dict()


def test_nearest_rank_percentiles():
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([1, 2, 3, 4], 50) == 2  # rank ceil(0.5 * 4) = 2
    assert nearest_rank(list(range(1, 11)), 90) == 9  # rank ceil(0.9 * 10) = 9
    assert nearest_rank(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10


def test_case_facts_follow_the_history():
    floor, _ = four_cases()
    a, b, cc, d, _e = histories(floor)
    facts = {f.case_id: f for f in (case_facts(h, PolicyHistory.only(floor.policy), at(200)) for h in (a, b, cc, d)) if f}
    assert [facts[k].owner_after_s for k in ("CW-1", "CW-2", "CW-3", "CW-4")] == [600, 1800, 600, None]
    assert [facts[k].update_breached for k in ("CW-1", "CW-2", "CW-3", "CW-4")] == [False, True, False, True]
    assert [facts[k].returned for k in ("CW-1", "CW-2", "CW-3", "CW-4")] == [False, False, True, False]
    assert [facts[k].severity_changed for k in ("CW-1", "CW-2", "CW-3", "CW-4")] == [False, True, False, False]
    assert facts["CW-2"].initial_severity is Severity.SEV1  # the downgrade keeps the initial severity
    assert case_facts(_e, PolicyHistory.only(floor.policy), at(200)) is None  # not yet escalated at the as-of instant


def test_the_five_metrics_over_the_population():
    got = metrics(as_of=200, since=0, until=300)  # A, B, C, D (E is after the as-of instant)
    # owned after 600 (A), 1800 (B), 600 (C) s: sorted [600, 600, 1800]; median rank 2, p90 rank ceil(2.7) = 3
    assert got["time_to_named_owner"] == {"count": 3, "median_s": 600, "p90_s": 1800, "unowned": 1}
    # B breached @25 then was downgraded (still a breach); D breached @80; C paused; A always in time
    assert got["customer_update_miss_rate"] == {"numerator": 2, "denominator": 4, "rate": 0.5}
    assert got["escalation_rework_rate"] == {"numerator": 1, "denominator": 4, "rate": 0.25}  # C
    assert got["severity_mismatch_rate"] == {"numerator": 1, "denominator": 4, "rate": 0.25}  # B
    assert got["avoidable_escalation_rate"] == {"numerator": 0, "denominator": 0, "rate": None}  # none reviewed


def test_breakdowns_by_initial_severity_and_by_shift_lead_at_escalation():
    got = metrics(as_of=200)
    sev1, sev2 = got["by_severity"]["SEV1"], got["by_severity"]["SEV2"]
    assert list(got["by_severity"]) == ["SEV1", "SEV2"]  # B counts under SEV1, where it started
    assert sev1["time_to_named_owner"] == {"count": 2, "median_s": 600, "p90_s": 1800, "unowned": 0}
    assert sev1["customer_update_miss_rate"]["numerator"] == 1  # B
    assert sev1["severity_mismatch_rate"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert sev2["time_to_named_owner"] == {"count": 1, "median_s": 600, "p90_s": 600, "unowned": 1}
    assert sev2["escalation_rework_rate"] == {"numerator": 1, "denominator": 2, "rate": 0.5}  # C of C, D
    by_lead = got["by_lead"]
    assert by_lead["lead"]["customer_update_miss_rate"] == {"numerator": 1, "denominator": 3, "rate": 1 / 3}
    assert by_lead["spec"]["customer_update_miss_rate"] == {"numerator": 1, "denominator": 1, "rate": 1.0}  # D


def test_as_of_replays_the_history_up_to_that_instant():
    got = metrics(as_of=26)  # B breached @25, not yet owned or downgraded; D not yet late; C not yet returned
    assert got["time_to_named_owner"] == {"count": 2, "median_s": 600, "p90_s": 600, "unowned": 2}
    assert got["customer_update_miss_rate"] == {"numerator": 1, "denominator": 4, "rate": 0.25}
    assert got["escalation_rework_rate"]["numerator"] == 0
    assert metrics(as_of=28)["escalation_rework_rate"]["numerator"] == 1
    assert got["severity_mismatch_rate"]["numerator"] == 0
    assert got["by_lead"]["spec"]["customer_update_miss_rate"]["denominator"] == 1  # spec's shift began @15


def test_the_population_is_the_window_since_inclusive_until_exclusive():
    got = metrics(as_of=200, since=10, until=20)  # C @10 is in, D @20 is out
    assert got["customer_update_miss_rate"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert got["escalation_rework_rate"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    empty = metrics(as_of=200, since=300)
    assert empty["time_to_named_owner"] == {"count": 0, "median_s": None, "p90_s": None, "unowned": 0}
    assert empty["escalation_rework_rate"]["rate"] is None


def test_shift_leads_by_instant():
    leads = ShiftLeads([shift("spec", 15), shift("lead", -120)])
    assert [leads.at(at(m)) for m in (-121, -120, 14, 15)] == [None, "lead", "lead", "spec"]


def test_a_downgrade_before_the_as_of_instant_keeps_the_breach():
    """@40 B's update clock runs again (SEV2 since @30: due @65), but it breached @25 under SEV1."""
    got = metrics(as_of=40)
    assert got["customer_update_miss_rate"] == {"numerator": 1, "denominator": 4, "rate": 0.25}  # B only
