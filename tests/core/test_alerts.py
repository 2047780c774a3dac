"""Which clock turns alert (core.alerts): once per turn, the viewer's cases (every case for the shift
lead), nothing for what was late already but a summary, and the `[alerts]` table of the config file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casewatch.cli.environment import load_config
from casewatch.core import commands as c
from casewatch.core.alerts import (
    Alert,
    AlertPace,
    AlertSettings,
    Scope,
    alerts_for,
    clock_states,
    next_turn_us,
    summary_text,
    turned,
)
from casewatch.core.calendars import to_us
from casewatch.core.clocks import ClockKind, ClockState, plan_clocks
from casewatch.core.errors import FileInvalid
from casewatch.core.models import Severity
from tests.core.floor import Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
OWNER, UPDATE, REVIEW = ClockKind.OWNER, ClockKind.CUSTOMER_UPDATE, ClockKind.INTERNAL_REVIEW
RUNNING, WARNING, BREACHED = ClockState.RUNNING, ClockState.WARNING, ClockState.BREACHED
BERLIN = ZoneInfo("Europe/Berlin")


def floor_with(*cases: dict) -> Floor:
    """SEV1 cases escalated at T0 (owner due in 15m, update in 20m, review in 60m; warnings at 75 %)."""
    floor = Floor()
    for fields in cases:
        case = floor.do(c.NewCase(title=fields.get("title", "Login fails"), customer="ACME",
                                  severity=Severity.SEV1), "agent", at=T0)
        for command in fields.get("then", ()):
            floor.do(command.model_copy(update={"case_id": case.id}), at=T0)
    return floor


class Looker:
    """What the board does: keep each case's states from one look to the next and ask for the alerts."""

    def __init__(self, floor: Floor, viewer: str = "spec", shift_lead: str | None = None,
                 settings: AlertSettings | None = None):
        self.floor, self.viewer, self.shift_lead = floor, viewer, shift_lead
        self.settings = settings or AlertSettings()
        self.states: dict = {}

    def look(self, at: datetime, *, since_last_look: bool = False) -> list[Alert]:
        clocks = {cid: plan_clocks(case, self.floor.policy) for cid, case in self.floor.cases.items()}
        now = {cid: clock_states(plans, to_us(at)) for cid, plans in clocks.items()}
        found = alerts_for(self.states, now, self.floor.cases, clocks, viewer=self.viewer,
                           shift_lead=self.shift_lead, settings=self.settings, now=at, since_last_look=since_last_look)
        self.states = now
        return found


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.mark.parametrize(("before", "after", "alerts"), [
    (RUNNING, WARNING, True), (RUNNING, BREACHED, True), (WARNING, BREACHED, True),
    (ClockState.PAUSED, WARNING, True),
    (WARNING, WARNING, False), (BREACHED, BREACHED, False), (BREACHED, WARNING, False),
    (WARNING, RUNNING, False), (BREACHED, ClockState.MET, False), (RUNNING, ClockState.STOPPED, False),
])
def test_a_clock_alerts_when_it_turns_worse(before, after, alerts):
    assert turned(before, after) is alerts


def test_one_alert_per_transition_however_often_the_board_looks():
    floor = floor_with({"then": [c.Assign(case_id="", name="spec")]})
    floor.do(c.Assign(case_id="CW-1", name="agent"), at=T0)  # the owner clock is met: it never turns
    looker = Looker(floor, viewer="agent")
    seen = []
    for second in range(0, 70 * 60, 20):  # a look every 20 s for 70 minutes
        seen += [(alert.clock, alert.state, alert.at) for alert in looker.look(T0 + timedelta(seconds=second))]
    assert [(clock, state) for clock, state, _ in seen] == [
        (UPDATE, WARNING), (UPDATE, BREACHED), (REVIEW, WARNING), (REVIEW, BREACHED)]
    assert [at for *_, at in seen] == [minutes(15), minutes(20), minutes(45), minutes(60)]


def test_every_clock_of_a_case_turns_once_and_a_reset_clock_can_alert_again():
    floor = floor_with({})
    looker = Looker(floor, shift_lead="spec")
    looker.look(T0)
    assert [(a.clock, a.state) for a in looker.look(minutes(12))] == [(OWNER, WARNING)]
    assert [(a.clock, a.state) for a in looker.look(minutes(16))] == [(OWNER, BREACHED), (UPDATE, WARNING)]
    assert looker.look(minutes(17)) == []
    floor.do(c.CustomerUpdate(case_id="CW-1", known="k", investigating="i", next_milestone="m"),
             at=minutes(17))  # the update clock starts again: due at 37m, warning from 32m
    assert looker.look(minutes(18)) == []
    assert [(a.clock, a.state, a.due) for a in looker.look(minutes(33))] == [(UPDATE, WARNING, minutes(37))]


def test_nothing_alerts_for_clocks_already_late_when_the_board_opens_only_a_summary():
    floor = floor_with({}, {})
    looker = Looker(floor, shift_lead="spec")
    first = dict(looker.states)
    assert looker.look(minutes(16)) == []  # the first look has nothing to compare with
    missed = alerts_for(first, looker.states, floor.cases,
                        {cid: plan_clocks(case, floor.policy) for cid, case in floor.cases.items()},
                        viewer="spec", shift_lead="spec", settings=AlertSettings(), now=minutes(16),
                        since_last_look=True)
    assert {(a.case_id, a.clock, a.state) for a in missed} == {
        ("CW-1", OWNER, BREACHED), ("CW-1", UPDATE, WARNING), ("CW-2", OWNER, BREACHED), ("CW-2", UPDATE, WARNING)}
    assert len(missed) == 4
    assert all(alert.missed for alert in missed)
    assert summary_text(missed) == "2 clocks breached and 2 clocks in warning since you last looked"
    assert summary_text(missed[:1]) == "1 clock breached since you last looked"
    assert summary_text([]) is None
    assert looker.look(minutes(17)) == []  # and they do not alert later either


def test_a_case_joining_the_board_already_late_alerts_like_a_turn():
    floor = floor_with({})
    looker = Looker(floor, shift_lead="spec")
    looker.look(minutes(16))
    floor.do(c.NewCase(title="Checkout down", customer="Initech", severity=Severity.SEV1), "agent", at=T0)
    clocks = {cid: plan_clocks(case, floor.policy) for cid, case in floor.cases.items()}
    after = {cid: clock_states(plans, to_us(minutes(16))) for cid, plans in clocks.items()}
    context = {"viewer": "spec", "shift_lead": "spec", "settings": AlertSettings(), "now": minutes(16)}
    assert alerts_for(looker.states, after, floor.cases, clocks, **context) == []  # not new: nothing turned
    joined = alerts_for(looker.states, after, floor.cases, clocks, joined={"CW-2"}, **context)
    assert {(a.case_id, a.clock, a.state) for a in joined} == {("CW-2", OWNER, BREACHED), ("CW-2", UPDATE, WARNING)}
    assert not any(alert.missed for alert in joined)  # alerted now, not folded into a summary
    others = AlertSettings(cases=Scope.MINE)
    assert alerts_for(looker.states, after, floor.cases, clocks, joined={"CW-2"},
                      **{**context, "settings": others}) == []  # the alert scope still decides


def test_the_viewers_own_cases_alert_and_every_case_for_the_shift_lead():
    floor = floor_with(
        {"title": "owned", "then": [c.Assign(case_id="", name="spec")]},
        {"title": "comms", "then": [c.AssignComms(case_id="", name="spec")]},
        {"title": "authority", "then": [c.SetAuthority(case_id="", name="spec")]},
        {"title": "someone else's", "then": [c.Assign(case_id="", name="agent")]},
    )

    def alerted(viewer: str, shift_lead: str | None, scope: Scope = Scope.AUTO) -> set[str]:
        looker = Looker(floor, viewer, shift_lead, AlertSettings(cases=scope))
        looker.look(T0)
        return {floor.cases[a.case_id].title for a in looker.look(minutes(21))}

    assert alerted("spec", shift_lead="lead") == {"owned", "comms", "authority"}
    assert alerted("spec", shift_lead="spec") == {"owned", "comms", "authority", "someone else's"}
    assert alerted("lead", shift_lead="spec") == set()  # a lead who does not lead the shift: own cases only
    assert alerted("spec", shift_lead="spec", scope=Scope.MINE) == {"owned", "comms", "authority"}
    assert alerted("agent", shift_lead=None, scope=Scope.ALL) == {"owned", "comms", "authority", "someone else's"}
    assert alerted("spec", shift_lead="spec", scope=Scope.NONE) == set()


def test_the_states_setting_chooses_which_turns_alert():
    floor = floor_with({})
    looker = Looker(floor, shift_lead="spec", settings=AlertSettings(states=(BREACHED,)))
    looker.look(T0)
    assert looker.look(minutes(12)) == []
    assert [(a.clock, a.state) for a in looker.look(minutes(16))] == [(OWNER, BREACHED)]


def test_the_next_turn_is_the_nearest_warning_or_due_instant_to_come():
    floor = floor_with({})
    plans = plan_clocks(floor.cases["CW-1"], floor.policy)
    assert next_turn_us(plans, to_us(T0)) == to_us(T0 + timedelta(minutes=11, seconds=15))
    assert next_turn_us(plans, to_us(minutes(15))) == to_us(minutes(20))  # the owner's due is not after 15m
    assert next_turn_us(plans, to_us(minutes(61))) is None


def test_an_alert_names_case_clock_and_due_time_literally():
    floor = floor_with({})
    # Text from an older database may still hold a control character (new text is refused at the boundary)
    floor.cases["CW-1"] = floor.cases["CW-1"].model_copy(update={"title": "[b]ACME\x1b[31m down"})
    looker = Looker(floor, shift_lead="spec")
    looker.look(T0)
    [alert] = looker.look(minutes(12))
    assert alert.text(BERLIN) == "CW-1 (SEV1) warning: owner due Fri 15:15 CET — [b]ACME\\x1b[31m down"
    env = alert.environment(BERLIN)
    assert env == {"CASEWATCH_ALERT": "clock", "CASEWATCH_CASE_ID": "CW-1", "CASEWATCH_SEVERITY": "SEV1",
                   "CASEWATCH_CLOCK": "owner", "CASEWATCH_STATE": "warning", "CASEWATCH_DUE": "2026-11-27T14:15:00Z",
                   "CASEWATCH_DUE_LOCAL": "Fri 15:15 CET", "CASEWATCH_TITLE": "[b]ACME\\x1b[31m down",
                   "CASEWATCH_MESSAGE": alert.text(BERLIN), "CASEWATCH_COUNT": "1"}


def test_the_alerts_table_of_the_config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[alerts]\ncases = "all"\nstates = ["breached"]\nbell = false\n'
                    'command = ["notify-send", "--app-name=casewatch"]\nenv = ["SLACK_WEBHOOK_URL", "_X1"]\n')
    settings = load_config(path).alerts
    assert settings == AlertSettings(cases=Scope.ALL, states=(BREACHED,), bell=False,
                                     command=("notify-send", "--app-name=casewatch"),
                                     env=("SLACK_WEBHOOK_URL", "_X1"))
    assert load_config(tmp_path / "none.toml").alerts == AlertSettings()
    assert AlertSettings().bell is True and AlertSettings().command == ()


def test_a_wrong_alerts_table_names_every_problem_and_its_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('user = "dana"\n[alerts]\ncases = "everyone"\nstates = ["late"]\nbell = "no"\n'
                    'command = "notify-send hello"\nsound = true\nenv = ["PATH=/tmp"]\n')
    with pytest.raises(FileInvalid) as caught:
        load_config(path)
    where = str(path)
    assert caught.value.problems == [
        f"{where}:3: alerts.cases: must be one of auto, mine, all, none",
        f"{where}:4: alerts.states: unknown state 'late' (expected warning or breached)",
        f"{where}:5: alerts.bell: must be true or false",
        f'{where}:6: alerts.command: must be a list of strings: the program and its arguments, '
        f'e.g. ["notify-send", "casewatch"]',
        f"{where}:7: alerts.sound: unknown key (expected one of bell, cases, command, env, states)",
        f"{where}:8: alerts.env: 'PATH=/tmp' is not an environment variable name (letters, digits and '_')",
    ]


def test_alerts_are_shown_at_most_once_per_pace_and_what_turns_meanwhile_waits_for_the_next_look():
    def alert(n: int, at: datetime) -> Alert:
        return Alert(case_id=f"CW-{n}", title="t", severity=Severity.SEV1, clock=ClockKind.OWNER,
                     state=ClockState.BREACHED, due=at, at=at)

    pace = AlertPace(timedelta(seconds=5))
    start = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
    at = [start + timedelta(seconds=s) for s in range(12)]
    assert pace.look([], at[0]) == []
    assert pace.look([first := alert(1, at[0])], at[0]) == [first]  # a quiet floor: at once
    storm = [alert(n, at[n - 1]) for n in range(2, 7)]  # one a second
    assert [pace.look([a], a.at) for a in storm[:4]] == [[], [], [], []]
    assert pace.look([storm[4]], at[5]) == storm  # five seconds after the first look: all that waited, in order
    assert pace.look([], at[6]) == [] and pace.look([], at[11]) == []  # nothing waits: no look
    assert pace.look([late := alert(9, at[11])], at[11]) == [late]
