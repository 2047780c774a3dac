"""Customer-update templates: checked when the policy is read, filled in with a case's fields."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from casewatch.core.errors import NotFound, PolicyInvalid
from casewatch.core.models import Case, Severity, SourceLink
from casewatch.core.policy import DEFAULT_POLICY_TOML, parse_policy
from casewatch.core.templates import fill, find_template, templates_for

T = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
TEMPLATES = '''
[[templates]]
name = "Investigating"
severities = ["SEV1", "SEV2"]
known = "{customer} sees: {title} ({severity}, {ticket})"
investigating = "the cause; a literal {{brace}}"
next_milestone = "our next update by {next_update_local}"

[[templates]]
name = "Waiting"
known = "We need your logs."
'''
POLICY = parse_policy(DEFAULT_POLICY_TOML + TEMPLATES, "policy.toml")


def case(severity=Severity.SEV1, source=None, title="Login fails {customer} [prod]") -> Case:
    return Case(id="CW-1001", title=title, customer="ACME", severity=severity, route="incident", escalated_at=T,
                updated_at=T, updated_by="x", last_occurred_at=T, source=source)


def test_a_template_is_filled_with_the_case_and_its_fields_are_kept_literally():
    filled = fill(find_template("investigating", case(), POLICY), case(), POLICY, T, "Europe/Berlin")
    assert filled.known == "ACME sees: Login fails {customer} [prod] (SEV1, CW-1001)"  # the title is not read
    assert filled.investigating == "the cause; a literal {brace}"
    due = POLICY.calendar_for(Severity.SEV1).add(T, POLICY[Severity.SEV1].customer_update_every)
    assert filled.next_milestone == f"our next update by {due.astimezone(BERLIN):%Y-%m-%d %H:%M} CET"
    linked = case(source=SourceLink("zd", "csv", "48213"))
    assert fill(find_template("Investigating", linked, POLICY), linked, POLICY, T, "UTC").known.endswith("ZD-48213)")


def test_templates_are_offered_by_severity():
    assert [t.name for t in templates_for(case(Severity.SEV1), POLICY)] == ["Investigating", "Waiting"]
    assert [t.name for t in templates_for(case(Severity.SEV3), POLICY)] == ["Waiting"]
    with pytest.raises(NotFound, match="not for SEV3"):
        find_template("Investigating", case(Severity.SEV3), POLICY)
    with pytest.raises(NotFound, match="no template 'nope'"):
        find_template("nope", case(), POLICY)


@pytest.mark.parametrize(("text", "says"), [
    ('known = "{tikcet}"', "unknown placeholder {tikcet}"),
    ('known = "{customer.name}"', "unknown placeholder {customer.name}"),
    ('known = "{customer!r}"', "unknown placeholder {customer}"),
    ('known = "{customer"', "literal brace is written twice"),
    ('investigating = "{}"', "unknown placeholder {}"),
])
def test_an_unknown_placeholder_is_refused_with_its_line(text, says):
    source = DEFAULT_POLICY_TOML + f'\n[[templates]]\nname = "x"\n{text}\n'
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(source, "policy.toml")
    line = len(source.splitlines())
    [found] = refused.value.problems
    assert found.startswith(f"policy.toml:{line}: templates.") and says in found


def test_two_templates_of_one_name_are_refused():
    with pytest.raises(PolicyInvalid, match="'Waiting' is used twice"):
        parse_policy(DEFAULT_POLICY_TOML + TEMPLATES + '\n[[templates]]\nname = "waiting"\n', "policy.toml")
