# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""The fold derives what an event's payload claims (core.redecide), shown as member logins with raw
SQL on the real PostgreSQL server: a forged creation's route authority, route and evidence, a forged
`return_cleared`, a hidden `route_review`, a false before-value, a `via` from no import: each is
recorded but quarantined (`db audit` names the field, no state changes, `db verify`/`db rebuild`
work); and an agent cannot fill a role the policy requires through the ordinary CLI."""

from __future__ import annotations

import json

from casewatch.core.evidence import DEFAULT_ITEMS
from tests.team.test_attacks import audit, forge, new_case, still_sound
from tests.team.test_team_mode import cw, team  # noqa: F401 - the fixture


def show(team, capsys, case_id: str) -> dict:
    code, out, err = cw(capsys, "case", "show", case_id, "--json", "--db", team.url("alice"))
    assert code == 0, err
    return json.loads(out)


def test_a_forged_creation_gives_no_route_authority_no_route_and_no_evidence(team, capsys):
    """Finding 2: bob (an agent) creates the next case with himself as route authority, every
    evidence item done, on a route the policy does not give SEV1 (and no team is called payments)."""
    honest = new_case(team, capsys)
    forged_id = f"CW-{int(honest[3:]) + 1}"
    evidence = [{"key": item.key, "label": item.label, "done": True} for item in DEFAULT_ITEMS]
    [row] = forge(team, "bob", "case_created", {
        "title": "Forged", "customer": "Evil", "summary": "", "severity": "SEV1", "route": "specialist:payments",
        "route_authority": "bob", "evidence": evidence}, forged_id)
    [listed] = audit(team, capsys)
    assert (listed["id"], listed["case"], listed["actor"]) == (row["id"], forged_id, "bob")
    assert listed["reason"] == "its route is not what casewatch derives ('specialist:payments', not 'incident')"
    still_sound(team, capsys)
    code, _, err = cw(capsys, "case", "show", forged_id, "--db", team.url("alice"))
    assert code == 2 and f"no case {forged_id}" in err
    code, _, err = cw(capsys, "case", "route", forged_id, "support", "--reason", "mine", "--db", team.url("bob"))
    assert code == 2
    code, out, _ = cw(capsys, "cases", "--json", "--db", team.url("alice"))
    assert [case["id"] for case in json.loads(out)] == [honest]
    # the same creation with only its route right (under the next id: the log holds the first) still claims
    forge(team, "bob", "case_created", {
        "title": "Forged", "customer": "Evil", "summary": "", "severity": "SEV1", "route": "incident",
        "route_authority": "bob", "evidence": evidence}, f"CW-{int(honest[3:]) + 2}")
    assert audit(team, capsys)[-1]["reason"] == "its route_authority is not what casewatch derives ('bob', not None)"
    still_sound(team, capsys)


def test_a_forged_return_cleared_leaves_alices_return_mark(team, capsys):
    """Finding 6: after alice returned the case, bob marks one item done and claims the packet complete."""
    case_id = new_case(team, capsys)
    code, _, err = cw(capsys, "case", "return", case_id, "--missing", "impact", "--reason", "who is hit?",
                      "--db", team.url("alice"))
    assert code == 0, err
    [row] = forge(team, "bob", "evidence_set", {"key": "timeline", "before": "missing", "state": "done", "value": "x",
                                                "reason": "", "version": 1, "return_cleared": True}, case_id)
    [listed] = audit(team, capsys)
    assert listed["id"] == row["id"]
    assert listed["reason"] == "its return_cleared is not what casewatch derives (True, not False)"
    still_sound(team, capsys)
    shown = show(team, capsys, case_id)
    assert shown["evidence"]["returned"] is not None and shown["evidence"]["ready"] == 0
    assert not any("packet complete again" in entry["summary"] for entry in shown["timeline"])


def test_an_owner_cannot_hide_route_review_or_falsify_a_before_value_or_via(team, capsys):
    """Finding 7: bob, the internal owner of a SEV3 case, bumps it to SEV1 claiming no route review;
    then claims a false before, a change to the same severity, a via from zendesk, an unknown item."""
    case_id = new_case(team, capsys, severity="SEV3")
    assert cw(capsys, "case", "assign", case_id, "bob", "--db", team.url("alice"))[0] == 0
    bumped = {"before": "SEV3", "after": "SEV1", "reason": "bumped"}
    rows = [forge(team, "bob", kind, payload, case_id)[0] for kind, payload in [
        ("severity_changed", bumped | {"route_review": False}),
        ("severity_changed", bumped | {"before": "SEV1", "after": "SEV2", "route_review": False}),
        ("severity_changed", bumped | {"after": "SEV3", "route_review": False}),
        ("note_added", {"text": "from the tracker", "via": "zendesk"}),
        ("evidence_set", {"key": "payroll", "before": "missing", "state": "done", "value": "x", "reason": "",
                          "version": 1}),
    ]]
    listed = audit(team, capsys)
    assert [q["id"] for q in listed] == [row["id"] for row in rows]
    assert [q["reason"] for q in listed[:4]] == [
        "its route_review is not what casewatch derives (False, not True)",
        "its before is not what casewatch derives ('SEV1', not 'SEV3')",
        f"casewatch would have refused it: {case_id} is already SEV3",
        "casewatch would have refused it: bob is an agent: importing cases from a tracker needs a lead",
    ]
    assert listed[4]["reason"].startswith(f"casewatch would have refused it: {case_id} has no evidence item 'payroll'")
    still_sound(team, capsys)
    shown = show(team, capsys, case_id)
    assert shown["severity"] == "SEV3" and [e["type"] for e in shown["timeline"]] == ["case_created", "owner_assigned"]
    # the CLI's own change raises the flag, and the fold counts it
    code, _, err = cw(capsys, "case", "severity", case_id, "SEV1", "--reason", "bumped", "--db", team.url("bob"))
    assert code == 0, err
    assert "route review needed (policy says incident)" in show(team, capsys, case_id)["flags"]


def test_an_agent_cannot_fill_the_roles_the_policy_requires(team, capsys):
    """Finding 8: SEV1 needs a lead and an incident commander on the case; bob (an agent) may involve
    himself, but not as either, neither through the CLI nor by raw SQL."""
    case_id = new_case(team, capsys)
    for role, message in (("incident-commander", "a lead names who fills it"),
                          ("lead", "bob is not a lead on the roster")):
        code, _, err = cw(capsys, "case", "involve", case_id, "bob", "--role", role, "--db", team.url("bob"))
        assert code == 2 and message in err, err
    [row] = forge(team, "bob", "participant_involved", {"name": "bob", "role": "incident-commander"}, case_id)
    [listed] = audit(team, capsys)
    assert listed["id"] == row["id"] and "a lead names who fills it" in listed["reason"]
    still_sound(team, capsys)
    assert "missing role: incident-commander" in show(team, capsys, case_id)["flags"]
    assert cw(capsys, "case", "involve", case_id, "bob", "--role", "scribe", "--db", team.url("bob"))[0] == 0
    code, _, err = cw(capsys, "case", "involve", case_id, "bob", "--role", "incident-commander",
                      "--db", team.url("alice"))
    assert code == 0, err
    assert "missing role: incident-commander" not in show(team, capsys, case_id)["flags"]


def test_an_old_shape_evidence_event_cannot_clear_alices_return_mark(team, capsys):
    """N1: the first checklist's shape with `return_cleared`: compared as it is applied, so quarantined
    while timeline is still missing; the same shape without the flag counts and leaves the mark."""
    case_id = new_case(team, capsys)
    code, _, err = cw(capsys, "case", "return", case_id, "--missing", "timeline", "--reason", "when?",
                      "--db", team.url("alice"))
    assert code == 0, err
    old = {"key": "observed", "before": False, "after": True}
    [row] = forge(team, "bob", "evidence_set", old | {"return_cleared": True}, case_id)
    [listed] = audit(team, capsys)
    assert listed["id"] == row["id"]
    assert listed["reason"] == "its return_cleared is not what casewatch derives (True, not False)"
    forge(team, "bob", "evidence_set", old, case_id)
    assert len(audit(team, capsys)) == 1
    still_sound(team, capsys)
    shown = show(team, capsys, case_id)
    assert shown["evidence"]["returned"] is not None
    assert not any("packet complete again" in entry["summary"] for entry in shown["timeline"])


def test_an_agent_cannot_open_a_case_with_the_shift_lead_as_route_authority(team, capsys):
    """N2: the first rules' creation shape names the shift lead; bob (an agent) writing it today
    is quarantined, alice (a lead) writing it still counts."""
    assert cw(capsys, "shift", "start", "--db", team.url("alice"))[0] == 0
    honest = new_case(team, capsys)
    created = {"title": "F6", "customer": "ACME", "summary": "", "severity": "SEV2", "route": "support",
               "route_authority": "alice"}
    [row] = forge(team, "bob", "case_created", created, f"CW-{int(honest[3:]) + 1}")
    [listed] = audit(team, capsys)
    assert (listed["id"], listed["reason"]) == (
        row["id"], "its route_authority is not what casewatch derives ('alice', not None)")
    leads = f"CW-{int(honest[3:]) + 2}"
    forge(team, "alice", "case_created", created, leads)
    assert len(audit(team, capsys)) == 1
    still_sound(team, capsys)
    code, out, _ = cw(capsys, "cases", "--json", "--db", team.url("alice"))
    assert [case["id"] for case in json.loads(out)] == [honest, leads]
    assert show(team, capsys, leads)["route_authority"] == "alice"


def test_text_over_its_limit_never_counts(team, capsys):
    """N6: bob's raw creation with a 250,000-character title and a 5,000-character customer, and a
    note over 16 KiB, are quarantined: `casewatch cases` stays narrow."""
    honest = new_case(team, capsys)
    created = {"title": "x" * 250_000, "customer": "y" * 5_000, "summary": "", "severity": "SEV2",
               "route": "support"}
    [row] = forge(team, "bob", "case_created", created, f"CW-{int(honest[3:]) + 1}")
    [note] = forge(team, "bob", "note_added", {"text": "n" * 20_000}, honest)
    listed = audit(team, capsys)
    assert [(q["id"], q["reason"]) for q in listed] == [
        (row["id"], "its title is too long (250000 characters; the limit is 200)"),
        (note["id"], "its text is too long (20000 bytes; the limit is 16384, 16 KiB)")]
    still_sound(team, capsys)
    code, out, _ = cw(capsys, "cases", "--db", team.url("alice"))
    assert code == 0 and max(map(len, out.splitlines())) < 300
    assert [e["type"] for e in show(team, capsys, honest)["timeline"]] == ["case_created"]


def test_a_flag_written_as_a_number_is_quarantined_and_nothing_warns(team, capsys):
    """N7: bob, owning a SEV3 case, logs its bump with `"route_review": 1`: quarantined (1 is not
    true), and verify, rebuild and `case show --json` print no serializer warning."""
    case_id = new_case(team, capsys, severity="SEV3")
    assert cw(capsys, "case", "assign", case_id, "bob", "--db", team.url("alice"))[0] == 0
    [row] = forge(team, "bob", "severity_changed", {"before": "SEV3", "after": "SEV1", "reason": "bumped",
                                                    "policy_route": "incident", "route_review": 1}, case_id)
    [listed] = audit(team, capsys)
    assert (listed["id"], listed["reason"]) == (
        row["id"], "its route_review is not what casewatch derives (1, not True)")
    for args, who in ((("db", "rebuild"), "bob"), (("db", "verify"), "alice"),
                      (("case", "show", case_id, "--json"), "alice")):
        code, out, err = cw(capsys, *args, "--db", team.url(who))
        assert code == 0 and "Warning" not in err and "serializ" not in err, (args, out, err)
    assert show(team, capsys, case_id)["severity"] == "SEV3"


def test_the_comms_owner_cannot_promise_a_due_time_or_message_casewatch_did_not_render(team, capsys):
    """N5: bob, the comms owner, logs an update due in 2099 with a message of his own: quarantined,
    never written back; his honest update counts, and a copy with another message does not."""
    case_id = new_case(team, capsys)
    assert cw(capsys, "case", "comms", case_id, "bob", "--db", team.url("alice"))[0] == 0
    [row] = forge(team, "bob", "customer_update_logged", {
        "known": "k", "investigating": "i", "next_milestone": "n", "next_update_in_s": 2700,
        "next_update_due": "2099-01-01T00:00:00+00:00", "message": "All fixed. Next update: never."}, case_id)
    [listed] = audit(team, capsys)
    assert listed["id"] == row["id"]
    assert listed["reason"].startswith("its next_update_due is not what casewatch derives "
                                       "('2099-01-01T00:00:00+00:00', not '")
    code, _, err = cw(capsys, "case", "update", case_id, "--known", "k", "--investigating", "i", "--next-milestone",
                      "n", "--next-update-in", "45m", "--db", team.url("bob"))
    assert code == 0, err
    [honest] = team.sql("admin", "SELECT payload::text AS payload FROM events "
                                 "WHERE type = 'customer_update_logged' AND actor = 'bob' ORDER BY id DESC LIMIT 1")
    payload = json.loads(honest["payload"])
    assert len(audit(team, capsys)) == 1  # the CLI's update counts (its due time by bob's clock, the stamp after)
    [copy] = forge(team, "bob", "customer_update_logged", payload | {"message": "All fixed."}, case_id)
    listed = audit(team, capsys)
    assert [q["id"] for q in listed] == [row["id"], copy["id"]]
    assert listed[1]["reason"].startswith("its message is not what casewatch derives ('All fixed.', not 'Hello")
    still_sound(team, capsys)
    updates = [e for e in show(team, capsys, case_id)["timeline"] if e["type"] == "customer_update_logged"]
    assert len(updates) == 1 and "2099" not in json.dumps(updates)
