"""Issue 9, defect 9: a route names a team the floor knows (the roster's teams and the policy's
`teams`); anything else is refused and leaves the case, and its flags, as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput, PolicyInvalid
from casewatch.core.models import Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy
from casewatch.core.rules import known_teams
from casewatch.core.views import case_flags
from tests.core.floor import ROSTER, Floor

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def flagged_case(floor: Floor) -> str:
    cid = floor.do(c.NewCase(title="Login fails", customer="ACME", severity=Severity.SEV3), "agent", at=T0).id
    floor.do(c.ChangeSeverity(case_id=cid, severity=Severity.SEV1, reason="outage"), at=T0)
    assert floor.cases[cid].route_review_needed
    return cid


@pytest.mark.parametrize("route", ["specialist:nosuch", "specialist:databse"])
def test_an_unknown_team_is_refused_and_the_route_review_flag_stays(route):
    floor = Floor()
    cid = flagged_case(floor)
    before = floor.cases[cid]
    with pytest.raises(InvalidInput, match=r"unknown team .* known teams: database") as raised:
        floor.do(c.ChangeRoute(case_id=cid, route=route, reason="typo", override="urgent"), at=T0)
    if route.endswith("databse"):
        assert "did you mean specialist:database?" in str(raised.value)
    assert floor.cases[cid] == before
    assert any(flag.startswith("route review needed") for flag in case_flags(floor.cases[cid], floor.policy))


def test_teams_come_from_the_roster_and_the_policy():
    policy = parse_policy('teams = ["network", "billing"]\n' + DEFAULT_POLICY_TOML, "team.toml")
    assert known_teams(ROSTER, policy) == ["billing", "database", "network"]
    floor = Floor(policy)
    cid = flagged_case(floor)
    case = floor.do(c.ChangeRoute(case_id=cid, route="specialist:network", reason="routing", override="urgent"),
                    at=T0)
    assert case.route == "specialist:network" and not case.route_review_needed


def test_the_policy_teams_list_is_checked():
    with pytest.raises(PolicyInvalid, match=r"team.toml:1: teams: bad team name 'Data Base'"):
        parse_policy('teams = ["Data Base"]\n' + DEFAULT_POLICY_TOML, "team.toml")


def test_a_policy_whose_severity_route_names_an_unknown_team_is_refused():
    """Every case escalated at that severity would start on a route nobody can take."""
    from casewatch.core.rules import Context, decide

    def apply_policy(toml: str):
        ctx = Context(actor=ROSTER["lead"], roster=ROSTER, policy=Floor().policy, occurred_at=T0, recorded_at=T0)
        return decide(c.ApplyPolicy(toml=toml, source_name="team.toml"), None, ctx)

    typo = DEFAULT_POLICY_TOML.replace('route = "incident"', 'route = "specialist:databse"', 1)
    assert typo != DEFAULT_POLICY_TOML
    with pytest.raises(InvalidInput, match=r"^team.toml: \[severities.SEV1\] unknown team 'databse' in route "
                                           r"specialist:databse \(did you mean specialist:database\?\)"):
        apply_policy(typo)
    assert apply_policy(typo.replace("databse", "database")).payload["source"] == "team.toml"
    apply_policy('teams = ["network"]\n' + typo.replace("databse", "network"))  # a team the policy itself lists
