from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import commands as c
from casewatch.core.clocks import ClockKind, ClockState, earliest_due_us, missing_roles, plan_clock, plan_clocks
from casewatch.core.demo import PEOPLE, demo_plan
from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.models import EvidenceState, Person, Severity, Status
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy
from casewatch.core.projection import apply
from casewatch.core.rules import Context, decide
from casewatch.core.views import case_flags
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # Friday 14:00 UTC
OWNER, UPDATE, REVIEW = ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW


def read(floor: Floor, case_id: str, at: datetime):
    return plan_clocks(floor.cases[case_id], floor.policy).read(at)


def new_case(floor: Floor, severity: Severity = Severity.SEV1, at: datetime = T0) -> str:
    return floor.do(c.NewCase(title="Login fails", customer="ACME", severity=severity), "agent", at=at).id


def test_owner_clock_runs_warns_breaches_then_is_met():
    floor = Floor()
    cid = new_case(floor)  # SEV1: owner within 15m, warning in the last 25 % (3m45s)
    assert read(floor, cid, T0)[OWNER].state is ClockState.RUNNING
    assert read(floor, cid, T0)[OWNER].due == T0 + timedelta(minutes=15)
    assert read(floor, cid, T0 + timedelta(minutes=11, seconds=14))[OWNER].state is ClockState.RUNNING
    assert read(floor, cid, T0 + timedelta(minutes=11, seconds=15))[OWNER].state is ClockState.WARNING
    late = read(floor, cid, T0 + timedelta(minutes=20))[OWNER]
    assert late.state is ClockState.BREACHED and late.remaining_s == -300
    case = floor.do(c.Assign(case_id=cid, name="spec"), at=T0 + timedelta(minutes=21))
    assert read(floor, cid, T0 + timedelta(minutes=22))[OWNER].state is ClockState.MET
    assert case.owner_named_at == T0 + timedelta(minutes=21)
    floor.do(c.Assign(case_id=cid, name="agent"), at=T0 + timedelta(minutes=30))
    assert floor.cases[cid].owner_named_at == T0 + timedelta(minutes=21)  # the first naming is kept


def test_customer_update_clock_is_anchored_at_the_last_update():
    floor = Floor()
    cid = new_case(floor)
    assert read(floor, cid, T0)[UPDATE].due == T0 + timedelta(minutes=20)
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"),
             at=T0 + timedelta(minutes=18))
    assert read(floor, cid, T0 + timedelta(minutes=19))[UPDATE].due == T0 + timedelta(minutes=38)
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m", next_update_in="45m"),
             at=T0 + timedelta(minutes=30))
    assert read(floor, cid, T0 + timedelta(minutes=31))[UPDATE].due == T0 + timedelta(minutes=75)


def test_review_clock_is_anchored_at_the_last_review():
    floor = Floor()
    cid = new_case(floor)
    floor.do(c.Review(case_id=cid, notes="ok"), at=T0 + timedelta(minutes=50))
    assert read(floor, cid, T0 + timedelta(minutes=51))[REVIEW].due == T0 + timedelta(minutes=110)


def test_waiting_pauses_the_update_clock_in_working_time_and_resumes_from_there():
    # SEV3 counts business hours (UTC 09-17, Mon-Fri) and pauses while waiting on the customer.
    floor = Floor()
    cid = new_case(floor, Severity.SEV3, at=T0)  # Friday 14:00: 8h cadence -> Monday 14:00
    assert read(floor, cid, T0)[UPDATE].due == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    floor.do(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), at=T0 + timedelta(hours=1))
    paused = read(floor, cid, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))[UPDATE]  # days later, still paused
    assert paused.state is ClockState.PAUSED
    assert paused.remaining_s == 7 * 3600  # one working hour was used on Friday
    # The customer answers on Tuesday 10:00: seven working hours run on from there -> Tuesday 17:00.
    floor.do(c.ChangeStatus(case_id=cid, status=Status.INVESTIGATING), at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    resumed = read(floor, cid, datetime(2026, 12, 1, 10, 0, tzinfo=UTC))[UPDATE]
    assert resumed.state is ClockState.RUNNING
    assert resumed.due == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_waiting_does_not_pause_when_the_policy_says_not_to():
    floor = Floor()
    cid = new_case(floor)  # SEV1: pause_updates_while_waiting = false
    floor.do(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), at=T0 + timedelta(minutes=5))
    reading = read(floor, cid, T0 + timedelta(minutes=10))[UPDATE]
    assert reading.state is ClockState.RUNNING and reading.due == T0 + timedelta(minutes=20)


def test_a_breach_before_the_pause_stays_a_breach():
    floor = Floor()
    cid = new_case(floor, Severity.SEV3, at=T0)
    later = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday, long after Monday 14:00
    floor.do(c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER), at=later)
    assert read(floor, cid, later)[UPDATE].state is ClockState.BREACHED


def test_severity_change_rederives_running_clocks_and_flags_route_review():
    floor = Floor()
    cid = new_case(floor, Severity.SEV3)  # route support, owner within 4 business hours
    assert read(floor, cid, T0)[OWNER].due == T0 + timedelta(hours=3, minutes=0) + timedelta(hours=1) + \
        timedelta(days=2, hours=16)  # Fri 14-17 (3h), then Monday 09:00 + 1h = Monday 10:00
    case = floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"),
                    at=T0 + timedelta(minutes=5))
    # the shorter window runs from the raise, as the old due time (Monday) is later: 14:05 + 15m
    assert read(floor, cid, T0 + timedelta(minutes=5))[OWNER].due == T0 + timedelta(minutes=20)
    assert case.route == "support" and case.route_review_needed
    assert "route review needed (policy says incident)" in case_flags(case, floor.policy)
    case = floor.do(c.ChangeRoute(case_id=cid, route="incident", reason="policy"), at=T0 + timedelta(minutes=6))
    assert not case.route_review_needed and case.route == "incident"


def test_a_raise_is_never_late_at_once_and_keeps_an_earlier_due_time():
    floor = Floor()
    cid = new_case(floor, Severity.SEV2)  # customer update every 1h
    floor.do(c.Assign(case_id=cid, name="spec"), at=T0)
    raised = T0 + timedelta(minutes=40)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"), at=raised)
    update = read(floor, cid, raised)[UPDATE]
    assert (update.state, update.due) == (ClockState.RUNNING, raised + timedelta(minutes=20))
    later = T0 + timedelta(minutes=50)  # only 10 minutes left of SEV2's hour: SEV1 keeps that due time
    cid = new_case(floor, Severity.SEV2)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"), at=later)
    assert read(floor, cid, later)[UPDATE].due == T0 + timedelta(hours=1)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV3, reason="contained"), at=later)
    assert read(floor, cid, later)[UPDATE].due > T0 + timedelta(hours=1)  # a longer window moves it out


def test_a_stricter_policy_is_never_late_at_once_and_keeps_an_earlier_due_time():
    floor = Floor()
    cid = new_case(floor, Severity.SEV2)  # customer update every 1h under the default policy
    floor.do(c.Assign(case_id=cid, name="spec"), at=T0)
    case = floor.cases[cid]
    stricter = parse_policy(DEFAULT_POLICY_TOML.replace('customer_update_every = "1h"', 'customer_update_every = "20m"', 1), version=2)
    assert stricter.timings[Severity.SEV2].update_us == 20 * 60 * 1_000_000
    applied = T0 + timedelta(minutes=40)
    history = [(T0 - timedelta(days=1), floor.policy), (applied, stricter)]
    update = plan_clocks(case, stricter, history).read(applied)[UPDATE]
    assert (update.state, update.due) == (ClockState.RUNNING, applied + timedelta(minutes=20))
    assert plan_clock(case, stricter, UPDATE, history).due == applied + timedelta(minutes=20)
    late = T0 + timedelta(minutes=50)  # 10 minutes left of the old hour: the old due time stands
    history = [(T0 - timedelta(days=1), floor.policy), (late, stricter)]
    assert plan_clocks(case, stricter, history).read(late)[UPDATE].due == T0 + timedelta(hours=1)
    assert plan_clocks(case, stricter).read(late)[UPDATE].state is ClockState.BREACHED  # without the history
    history = [(T0 - timedelta(days=1), stricter), (applied, floor.policy)]  # a laxer policy moves it out
    assert plan_clocks(case, floor.policy, history).read(applied)[UPDATE].due == T0 + timedelta(hours=1)


def test_route_review_can_be_confirmed_without_changing_the_route():
    floor = Floor()
    cid = new_case(floor, Severity.SEV3)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV2, reason="wider"), at=T0)
    # SEV2's policy route is also support: no review is needed.
    assert not floor.cases[cid].route_review_needed
    with pytest.raises(InvalidInput, match="already on route support"):
        floor.do(c.ChangeRoute(case_id=cid, route="support", reason="same"), at=T0)
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"), at=T0)
    case = floor.do(c.ChangeRoute(case_id=cid, route="support", reason="stays with support"), at=T0)
    assert not case.route_review_needed and case.route == "support"


def test_missing_roles_are_flagged_until_someone_holds_them():
    floor = Floor()
    cid = new_case(floor)  # SEV1 must involve lead and incident-commander
    assert missing_roles(floor.cases[cid], floor.policy) == ["lead", "incident-commander"]
    floor.do(c.Involve(case_id=cid, name="lead"), at=T0)
    floor.do(c.Involve(case_id=cid, name="spec", role="incident-commander"), at=T0)
    assert missing_roles(floor.cases[cid], floor.policy) == []


def test_resolving_stops_the_clocks_but_keeps_a_met_owner():
    floor = Floor()
    cid = new_case(floor)
    floor.do(c.Assign(case_id=cid, name="spec"), at=T0 + timedelta(minutes=1))
    floor.do(c.ChangeStatus(case_id=cid, status=Status.RESOLVED), at=T0 + timedelta(minutes=2))
    readings = read(floor, cid, T0 + timedelta(hours=5))
    assert readings[OWNER].state is ClockState.MET
    assert readings[UPDATE].state is ClockState.STOPPED and readings[REVIEW].state is ClockState.STOPPED
    with pytest.raises(InvalidInput, match="reopen it first"):
        floor.do(c.ChangeStatus(case_id=cid, status=Status.INVESTIGATING), at=T0 + timedelta(minutes=3))
    floor.do(c.Reopen(case_id=cid), at=T0 + timedelta(minutes=3))
    assert floor.cases[cid].status is Status.INVESTIGATING


def test_a_resolved_case_needs_no_attention_until_it_is_reopened():
    """From a fresh-eyes run: a resolved case still showed "no comms owner" and missing roles."""
    floor = Floor()
    cid = new_case(floor)  # SEV1: no owners, roles missing, evidence missing
    flagged = case_flags(floor.cases[cid], floor.policy)
    assert "no internal owner" in flagged and any(flag.startswith("missing role") for flag in flagged)
    floor.do(c.ChangeStatus(case_id=cid, status=Status.RESOLVED), at=T0 + timedelta(minutes=2))
    assert case_flags(floor.cases[cid], floor.policy) == []
    floor.do(c.Reopen(case_id=cid), at=T0 + timedelta(minutes=3))
    assert case_flags(floor.cases[cid], floor.policy) == flagged


def test_clocks_follow_a_new_policy():
    faster = parse_policy(DEFAULT_POLICY_TOML.replace('owner_within = "15m"', 'owner_within = "5m"'))
    floor = Floor()
    cid = new_case(floor)
    assert plan_clocks(floor.cases[cid], faster).read(T0)[OWNER].due == T0 + timedelta(minutes=5)


def test_backfilled_event_replays_in_history_order():
    floor = Floor()
    cid = new_case(floor, at=T0)
    floor.do(c.ChangeStatus(case_id=cid, status=Status.INVESTIGATING), at=T0 + timedelta(minutes=30))
    # Recorded later, but it happened before the status change.
    floor.do(c.CustomerUpdate(case_id=cid, known="k", investigating="i", next_milestone="m"),
             at=T0 + timedelta(minutes=10), recorded=T0 + timedelta(minutes=40))
    assert floor.log[-1].backfilled
    replayed = floor.replayed()[cid]
    assert replayed.last_customer_update_at == T0 + timedelta(minutes=10)
    assert replayed.version == 3
    assert replayed.model_dump(exclude={"updated_at", "updated_by"}) == \
        floor.cases[cid].model_dump(exclude={"updated_at", "updated_by"})


def test_rules_refuse_nonsense():
    floor = Floor()
    cid = new_case(floor)
    with pytest.raises(NotFound, match="no person named 'ghost'"):
        floor.do(c.Assign(case_id=cid, name="ghost"), at=T0)
    with pytest.raises(InvalidInput, match="viewer and cannot be the internal owner"):
        floor.do(c.Assign(case_id=cid, name="viewer"), at=T0)
    with pytest.raises(InvalidInput, match="already SEV1"):
        floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="x"), at=T0)
    with pytest.raises(NotFound, match="no evidence item 'dna'"):
        floor.do(c.SetEvidence(case_id=cid, key="dna", state=EvidenceState.DONE), at=T0)
    with pytest.raises(InvalidInput, match="cannot be moved back to new"):
        floor.do(c.ChangeStatus(case_id=cid, status=Status.NEW), at=T0)


def test_customer_update_message_is_customer_ready():
    floor = Floor()
    cid = new_case(floor)
    floor.do(c.AssignComms(case_id=cid, name="agent"), at=T0)
    floor.do(c.CustomerUpdate(case_id=cid, known="Logins fail for SSO users.", investigating="The IdP change.",
                              next_milestone="Rollback decision."), "agent", at=T0 + timedelta(minutes=2))
    message = floor.log[-1].payload["message"]
    assert "Hello ACME team," in message
    assert "What we know: Logins fail for SSO users." in message
    assert "Next milestone: Rollback decision." in message
    # 14:02 UTC + 20m in the agent's zone (New York, EST) and in UTC.
    assert "by Fri 27 Nov 09:22 EST (14:22 UTC)" in message
    assert message.endswith("— agent")


@pytest.mark.parametrize(("tz", "when"), [("Etc/UTC", "by Fri 27 Nov 14:22 UTC, sooner"),
                                          ("UTC", "by Fri 27 Nov 14:22 UTC, sooner"),
                                          ("Europe/London", "by Fri 27 Nov 14:22 GMT (14:22 UTC), sooner")])
def test_a_customer_update_names_utc_once_where_the_senders_zone_is_utc(tz, when):
    from casewatch.core.messages import render_customer_update

    message = render_customer_update(case_id="CW-1", title="t", customer="ACME", known="k", investigating="i",
                                     next_milestone="m", next_update_due=datetime(2026, 11, 27, 14, 22, tzinfo=UTC),
                                     tz=tz, sender="agent")
    assert when in message


def test_no_clock_comes_due_before_its_earliest_due_instant():
    """Working time runs no faster than the wall clock and pauses only delay a clock: the bound the
    metric facts skip planning by is never later than a plan's due instant (business hours, pauses,
    resolved cases and all, as a demo floor has them)."""
    floor = Floor()
    roster = {name: Person(name=name, role=role, tz=tz, team=team) for name, role, tz, team in PEOPLE}
    planned = 0
    for number, script in enumerate(demo_plan(120, seed=3, now=T0).cases):
        case = None
        for command, actor, at in [(script.new, script.actor, script.at), *((s.make, s.actor, s.at) for s in script.steps)]:
            command = command(f"CW-{number}") if callable(command) else command
            ctx = Context(actor=roster[actor], roster=roster, policy=floor.policy, occurred_at=at, recorded_at=T0)
            case = apply(case, decide(command, case, ctx, new_case_id=f"CW-{number}"))
            for kind in ClockKind:
                plan = plan_clock(case, floor.policy, kind)
                assert plan == plan_clocks(case, floor.policy)[list(ClockKind).index(kind)]
                if plan.active and plan.due_us is not None:
                    planned += 1
                    assert earliest_due_us(case, floor.policy, kind) <= plan.due_us, (case.id, kind)
    assert planned > 1000


def test_a_warning_on_a_business_hours_clock_says_the_working_time_left():
    """Issue 25, item 5: `▲ 6h11m` on a business-hours clock: the warning was about 11 minutes of
    work, the wall-clock countdown was long because the clock waits for business hours."""
    from casewatch.core.calendars import to_us
    from casewatch.tui.widgets.cells import countdown_label

    floor = Floor()
    cid = new_case(floor, Severity.SEV3, at=T0 - timedelta(minutes=40))  # Fri 13:20 UTC, 4 business hours
    plan = plan_clocks(floor.cases[cid], floor.policy).owner
    evening = T0 + timedelta(hours=3, minutes=30)  # Fri 17:30: 3h40m worked, 20m left on Monday
    state, remaining = plan.state_at(to_us(evening))
    assert state is ClockState.WARNING and remaining > 60 * 3600
    assert plan.working_left_s(to_us(evening)) == 20 * 60
    assert countdown_label(state, remaining, compact=True, working_s=20 * 60) == "▲ 20m w"
    assert plan.working_left_s(to_us(T0 + timedelta(hours=2, minutes=45))) == 35 * 60  # 16:45: 15m today, 20m Monday
    around_the_clock = plan_clocks(floor.cases[new_case(floor, Severity.SEV1, at=T0)], floor.policy).owner
    assert around_the_clock.working_left_s(to_us(T0 + timedelta(minutes=12))) is None  # 24x7: work is wall time
