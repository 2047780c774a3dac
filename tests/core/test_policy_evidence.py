"""The policy's [[evidence.items]]: the checklist template teams edit."""

import pytest

from casewatch.core.errors import PolicyInvalid
from casewatch.core.evidence import DEFAULT_ITEMS, checklist, readiness
from casewatch.core.models import Severity
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy

BASE = DEFAULT_POLICY_TOML.split("\n# The evidence checklist")[0]


def with_items(items: str):
    return parse_policy(BASE + "\n" + items, "team.toml")


def problems(items: str) -> list[str]:
    with pytest.raises(PolicyInvalid) as info:
        with_items(items)
    return info.value.problems


def test_the_default_policy_carries_the_default_template():
    assert "[[evidence.items]]" in DEFAULT_POLICY_TOML
    assert parse_policy(DEFAULT_POLICY_TOML).evidence == DEFAULT_ITEMS


def test_a_policy_without_evidence_keeps_the_built_in_checklist():
    assert parse_policy(BASE).evidence == DEFAULT_ITEMS


def test_a_team_template_with_a_route_only_item():
    policy = with_items('''
[[evidence.items]]
key = "impact"
label = "Customer & business impact"
hint = "Who is affected, how many, since when"
required_for = ["SEV1", "SEV2", "SEV3", "SEV4"]
required_for_routes = []

[[evidence.items]]
key = "query_plan"
label = "Query plan"
required_for = []
required_for_routes = ["specialist:database"]

[[evidence.items]]
key = "notes"
label = "Notes"
required_for = []
''')
    assert [i.key for i in policy.evidence] == ["impact", "query_plan", "notes"]
    on_db = readiness(checklist(policy.evidence, {}, Severity.SEV4, "specialist:database"))
    assert (on_db.required, on_db.missing) == (2, ("impact", "query_plan"))
    assert [e.key for e in checklist(policy.evidence, {}, Severity.SEV4, "support")] == ["impact", "notes"]


@pytest.mark.parametrize(("items", "expected"), [
    ('[[evidence.items]]\nkey = "Impact!"\nlabel = "x"', "evidence.items.key: bad item key 'Impact!'"),
    ('[[evidence.items]]\nkey = "logs"\nlabel = "x"', "'logs' is the old name of 'attachments': use that key"),
    ('[[evidence.items]]\nkey = "a"\nlabel = "x"\nrequired_for = ["SEV9"]', "evidence.items.required_for: unknown severity 'SEV9'"),
    ('[[evidence.items]]\nkey = "a"\nlabel = "x"\nrequired_for_routes = ["database"]', "unknown route 'database'"),
    ('[[evidence.items]]\nkey = "a"\nlabel = "x"\n[[evidence.items]]\nkey = "a"\nlabel = "y"', "item key 'a' is listed twice"),
    ('[[evidence.items]]\nkey = "a"', "evidence.items.label: required field is missing"),
    ('[[evidence.items]]\nkey = "a"\nlabel = "x"\ncolour = "red"', "evidence.items.colour: unknown key"),
    ('[evidence]\nitems = []', "needs at least one [[evidence.items]] entry"),
])
def test_template_problems_name_the_key_and_what_is_wrong(items, expected):
    found = problems(items)
    assert any(expected in p and p.startswith("team.toml") for p in found), found


def test_an_item_of_another_route_can_be_filled_before_the_route_change():
    from datetime import UTC, datetime

    from casewatch.core import commands as c
    from casewatch.core.errors import InvalidInput
    from casewatch.core.models import EvidenceState
    from tests.core.floor import Floor

    policy = with_items('[[evidence.items]]\nkey = "impact"\nlabel = "Impact"\n\n'
                        '[[evidence.items]]\nkey = "query_plan"\nlabel = "Query plan"\nrequired_for = []\n'
                        'required_for_routes = ["specialist:database"]')
    floor, at = Floor(policy), datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    cid = floor.do(c.NewCase(title="Slow", customer="ACME", severity=Severity.SEV3), at=at).id
    floor.do(c.SetEvidence(case_id=cid, key="impact", state=EvidenceState.DONE, value="all"), at=at)
    with pytest.raises(InvalidInput, match="not ready: query_plan"):
        floor.do(c.ChangeRoute(case_id=cid, route="specialist:database", reason="db"), at=at)
    floor.do(c.SetEvidence(case_id=cid, key="query_plan", state=EvidenceState.DONE, value="seq scan"), at=at)
    assert floor.do(c.ChangeRoute(case_id=cid, route="specialist:database", reason="db"), at=at).route == \
        "specialist:database"
