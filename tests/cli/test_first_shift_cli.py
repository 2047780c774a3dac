# ruff: noqa: F811 - `cw` is the CLI tests' fixture, shared from test_cli
"""Issue 25, "a first shift without surprises": what a new lead tripped over in the commands."""

from __future__ import annotations

import json

from casewatch.core.policy import DEFAULT_POLICY_TOML
from tests.cli.test_cli import cw  # noqa: F401


def flags(cw, case_id: str) -> list[str]:
    code, out, err = cw("case", "show", case_id, "--json")
    assert code == 0, err
    return json.loads(out)["flags"]


def test_the_shift_lead_fills_the_lead_role(cw, tmp_path):
    """Item 26: "⚑ missing role: lead" was on nearly every SEV1/SEV2, even one whose route authority
    is the shift lead. The shift lead fills the role while they lead, unless the policy says otherwise."""
    cid = cw("case", "new", "--title", "Outage", "--customer", "ACME", "--severity", "SEV2")[1].strip()
    assert "missing role: lead" in flags(cw, cid)  # nobody leads the shift yet
    assert cw("shift", "start")[0] == 0
    assert "missing role: lead" not in flags(cw, cid)
    assert "missing role: lead" not in cw("case", "show", cid)[1]
    strict = tmp_path / "strict.toml"
    marker = 'must_involve = ["lead"]'
    assert marker in DEFAULT_POLICY_TOML
    strict.write_text(DEFAULT_POLICY_TOML.replace(marker, marker + "\nshift_lead_is_lead = false", 1), encoding="utf-8")
    code, _, err = cw("policy", "apply", str(strict))
    assert code == 0, err
    assert "missing role: lead" in flags(cw, cid)


def test_the_case_list_shows_the_customer_a_filter_matches(cw):
    """Item 14: `cases --filter acme` matched on the customer but showed no customer column."""
    cw("case", "new", "--title", "Login fails", "--customer", "ACME Corp", "--severity", "SEV2")
    cw("case", "new", "--title", "Login fails", "--customer", "Initech", "--severity", "SEV2")
    code, out, _ = cw("cases", "--filter", "acme")
    header, *rows = out.splitlines()
    assert code == 0 and "CUSTOMER" in header.split() and len(rows) == 1
    assert "ACME Corp" in rows[0] and "Initech" not in out
