"""`casewatch case update --template NAME`, and a policy with a bad template refused with its line."""

from __future__ import annotations

import json

from casewatch.core.policy import DEFAULT_POLICY_TOML
from tests.cli.test_cli import cw  # noqa: F401 - the fixture

TEMPLATE = '''
[[templates]]
name = "Investigating"
severities = ["SEV1"]
known = "{customer}: {title} is failing"
investigating = "what changed before {ticket}"
next_milestone = "next update by {next_update_local}"
'''


def test_an_update_from_a_template_with_one_text_replaced(cw, tmp_path):  # noqa: F811
    policy = tmp_path / "policy.toml"
    policy.write_text(DEFAULT_POLICY_TOML + TEMPLATE, encoding="utf-8")
    assert cw("policy", "apply", str(policy))[0] == 0
    code, out, err = cw("case", "new", "--title", "Login {title}", "--customer", "ACME", "--severity", "SEV1")
    case_id = out.strip()
    code, out, err = cw("case", "update", case_id, "--template", "investigating", "--investigating", "the proxy")
    assert code == 0, err
    assert "ACME: Login {title} is failing" in out and "the proxy" in out and "next update by 20" in out
    code, out, _ = cw("case", "show", case_id, "--json")
    [update] = [e for e in json.loads(out)["timeline"] if e["type"] == "customer_update_logged"]
    assert update["payload"]["known"] == "ACME: Login {title} is failing"
    assert update["payload"]["investigating"] == "the proxy"


def test_without_a_template_every_text_is_required_and_an_unknown_template_is_named(cw, tmp_path):  # noqa: F811
    code, out, _ = cw("case", "new", "--title", "x", "--customer", "ACME", "--severity", "SEV3")
    case_id = out.strip()
    code, out, err = cw("case", "update", case_id, "--known", "k")
    assert code == 2 and out == "" and "--investigating, --next-milestone are required" in err
    code, out, err = cw("case", "update", case_id, "--template", "Investigating")
    assert code == 2 and "no template 'Investigating'" in err and err.count("\n") == 1


def test_a_policy_naming_an_unknown_placeholder_is_refused_with_its_line(cw, tmp_path):  # noqa: F811
    policy = tmp_path / "policy.toml"
    text = DEFAULT_POLICY_TOML + TEMPLATE.replace("{ticket}", "{tikcet}")
    policy.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "{tikcet}" in row)
    code, out, err = cw("policy", "apply", str(policy))
    assert code == 2 and out == ""
    assert f"{policy}:{line}: templates.investigating: unknown placeholder {{tikcet}}" in err
    assert cw("policy", "check", str(policy))[0] == 2
