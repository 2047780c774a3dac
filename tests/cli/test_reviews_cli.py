"""`casewatch case close` (resolve + post-case review) and `casewatch reviews`, and what the
metrics make of reviews: worked out here from a history built through the CLI with --at."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def cw(run_cli):
    """A fresh database: dana leads, mei is a specialist, sam an agent."""
    run = run_cli
    run("people", "add", "mei", "--role", "specialist", "--tz", "Asia/Singapore", "--team", "identity")
    run("people", "add", "sam", "--role", "agent", "--tz", "Europe/Berlin")
    for n, severity in enumerate(("SEV1", "SEV2", "SEV3")):
        code, _, err = run("case", "new", "--title", f"case {n}", "--customer", "ACME", "--severity", severity,
                           "--at", f"2026-03-06T1{n}:00:00Z")
        assert code == 0, err
    return run


def close(cw, case_id: str, *extra: str, at: str = "2026-03-07T09:00:00Z") -> tuple[int, str, str]:
    return cw("case", "close", case_id, *extra, "--at", at)


def test_close_resolves_and_records_the_review(cw):
    code, out, err = close(cw, "CW-1001", "--final-severity", "SEV2", "--avoidable", "no", "--cause", "product-defect",
                           "--lesson", "alert on [/] login errors", "--notes", "fixed in 4.2")
    assert (code, err) == (0, "")
    assert "closed and reviewed: final severity SEV2, not avoidable, cause product-defect" in out
    shown = json.loads(cw("case", "show", "CW-1001", "--json")[1])
    assert shown["status"] == "resolved"
    assert shown["review"] | {"reviewed_at": None} == {
        "case_id": "CW-1001", "title": "case 0", "customer": "ACME", "initial_severity": "SEV1",
        "final_severity": "SEV2", "avoidable": False, "cause": "product-defect", "lesson": "alert on [/] login errors",
        "notes": "fixed in 4.2", "reviewed_by": "dana", "reviewed_at": None}
    assert shown["review"]["reviewed_at"] == "2026-03-07T09:00:00Z"
    code, out, _ = cw("cases", "--json")
    assert "CW-1001" not in out  # it left the open cases


def test_close_refuses_bad_input_with_one_line_and_writes_nothing(cw):
    cases = [
        (("--final-severity", "SEV9", "--avoidable", "no"), "SEV9"),
        (("--final-severity", "SEV2", "--avoidable", "maybe"), "expected yes or no, got 'maybe'"),
        (("--final-severity", "SEV2", "--avoidable", "no", "--cause", "gremlins"),
         "cause 'gremlins' is not one of the policy's causes: product-defect, configuration"),
    ]
    for args, expected in cases:
        code, out, err = close(cw, "CW-1001", *args)
        assert code == 2, (args, err)
        assert expected in err and len(err.strip().splitlines()) == 1, err
    assert json.loads(cw("case", "show", "CW-1001", "--json")[1])["status"] == "new"


def test_only_a_lead_or_the_route_authority_may_close(cw):
    code, _, err = close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "no", "--as", "sam")
    assert code == 2 and "needs a lead or the case's route authority" in err
    assert cw("case", "authority", "CW-1001", "sam")[0] == 0
    code, _, err = close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "no", "--as", "sam")
    assert (code, err) == (0, "")


def test_a_closed_case_is_reviewed_once_until_reopened(cw):
    assert close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "yes")[0] == 0
    code, _, err = close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "no")
    assert code == 2 and "already closed and reviewed" in err
    assert cw("case", "reopen", "CW-1001", "--at", "2026-03-07T10:00:00Z")[0] == 0
    assert close(cw, "CW-1001", "--final-severity", "SEV2", "--avoidable", "no", at="2026-03-07T11:00:00Z")[0] == 0
    got = json.loads(cw("reviews", "--json")[1])
    assert [(r["case_id"], r["final_severity"], r["avoidable"]) for r in got["reviews"]] == [("CW-1001", "SEV2", False)]


def test_reviews_lists_newest_first_and_groups_avoidable_by_cause(cw):
    close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "yes", "--cause", "configuration",
          at="2026-03-07T09:00:00Z")
    close(cw, "CW-1002", "--final-severity", "SEV3", "--avoidable", "yes", "--cause", "configuration",
          "--lesson", "L2 runbook for SSO", at="2026-03-07T10:00:00Z")
    close(cw, "CW-1003", "--final-severity", "SEV3", "--avoidable", "no", "--cause", "product-defect",
          at="2026-03-07T11:00:00Z")
    got = json.loads(cw("reviews", "--json")[1])
    assert [r["case_id"] for r in got["reviews"]] == ["CW-1003", "CW-1002", "CW-1001"]
    assert got["avoidable_by_cause"] == {"configuration": 2}
    assert got["reviews"][1]["lesson"] == "L2 runbook for SSO"
    avoidable = json.loads(cw("reviews", "--avoidable", "--json")[1])
    assert [r["case_id"] for r in avoidable["reviews"]] == ["CW-1002", "CW-1001"]
    window = json.loads(cw("reviews", "--since", "2026-03-07T09:30:00Z", "--until", "2026-03-07T11:00:00Z",
                           "--json")[1])
    assert [r["case_id"] for r in window["reviews"]] == ["CW-1002"]
    code, out, _ = cw("reviews", "--tz", "Asia/Tokyo")
    assert code == 0
    assert "2026-03-07 20:00 JST  CW-1003  SEV3" in out  # 11:00Z in Tokyo, newest first
    assert "CW-1002  SEV2→SEV3  yes" in out
    assert out.rstrip().endswith("configuration  2")


def test_review_text_is_shown_literally(cw):
    code, _, err = close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "yes", "--lesson", "x\x1b[2Jboom")
    assert code == 2 and "control character" in err
    assert close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "yes", "--lesson", "[red]x[/] | `y`")[0] == 0
    code, out, _ = cw("reviews")
    assert code == 0 and "[red]x[/] | `y`" in out


def test_metrics_count_reviews(cw):
    """3 escalations; CW-1001 reviewed avoidable at its own severity, CW-1002 reviewed not avoidable
    as SEV3 (escalated SEV2): avoidable 1 of 2 reviewed, severity mismatch 1 of 3."""
    close(cw, "CW-1001", "--final-severity", "SEV1", "--avoidable", "yes")
    close(cw, "CW-1002", "--final-severity", "SEV3", "--avoidable", "no")
    got = json.loads(cw("metrics", "--json", "--as-of", "2026-03-08T00:00:00Z")[1])
    assert got["avoidable_escalation_rate"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert got["severity_mismatch_rate"] == {"numerator": 1, "denominator": 3, "rate": 1 / 3}
    before = json.loads(cw("metrics", "--json", "--as-of", "2026-03-07T08:00:00Z")[1])  # before the reviews
    assert before["avoidable_escalation_rate"]["denominator"] == 0
