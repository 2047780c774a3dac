"""The checklist template, item states, readiness, the route gate, returns and the old keys."""

from datetime import UTC, datetime

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import CasewatchError, Conflict, InvalidInput, NotFound, PermissionDenied
from casewatch.core.evidence import (
    DEFAULT_ITEMS,
    MAX_VALUE_BYTES,
    ChecklistItem,
    apply_return,
    apply_set,
    case_checklist,
    case_entry,
    checklist,
    decide_return,
    decide_set,
    find_entry,
    readiness,
    records_at_creation,
    returning_team,
    route_gate,
    upgrade_set_payload,
)
from casewatch.core.models import EvidenceRecord, EvidenceState, Person, Role, Severity
from tests.core.floor import Floor

AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
LEAD = Person(name="dana", role=Role.LEAD)
AGENT = Person(name="tom", role=Role.AGENT)
RAVI = Person(name="ravi", role=Role.SPECIALIST, team="database")
DB_ITEM = ChecklistItem("replication", "Replication status", required_for=(), required_for_routes=("specialist:database",))
ITEMS = DEFAULT_ITEMS + (DB_ITEM,)
S = EvidenceState


def records(**states: EvidenceState) -> dict[str, EvidenceRecord]:
    return {key: EvidenceRecord(key, state, value=f"{key} text", by="tom", at=AT, version=1)
            for key, state in states.items()}


def test_default_template_has_the_seven_keys_in_order():
    assert [i.key for i in DEFAULT_ITEMS] == ["impact", "identifiers", "timeline", "observed", "first_checks",
                                              "attachments", "open_question"]


@pytest.mark.parametrize(("severity", "route", "required"), [
    (Severity.SEV1, "incident", 7),
    (Severity.SEV2, "support", 7),
    (Severity.SEV3, "support", 6),                # attachments only required for SEV1/SEV2
    (Severity.SEV4, "specialist:network", 6),
    (Severity.SEV3, "specialist:database", 7),    # the route-only item joins the required ones
])
def test_readiness_counts_required_items_per_severity_and_route(severity, route, required):
    ready = readiness(checklist(ITEMS, {}, severity, route))
    assert (ready.ready, ready.required) == (0, required)
    assert ("replication" in ready.missing) == (route == "specialist:database")


def test_done_and_na_count_partial_and_missing_do_not():
    entries = checklist(DEFAULT_ITEMS, records(impact=S.DONE, identifiers=S.NA, timeline=S.PARTIAL), Severity.SEV2,
                        "support")
    ready = readiness(entries)
    assert str(ready) == "2/7"
    assert ready.missing == ("timeline", "observed", "first_checks", "attachments", "open_question")
    assert not ready.complete


def test_route_only_items_are_hidden_elsewhere_unless_filled():
    keys = [e.key for e in checklist(ITEMS, {}, Severity.SEV3, "support")]
    assert "replication" not in keys
    filled = checklist(ITEMS, records(replication=S.DONE), Severity.SEV3, "support")
    assert [e for e in filled if e.key == "replication"][0].required is False


def test_items_the_template_dropped_stay_visible_and_optional():
    entries = checklist(DEFAULT_ITEMS, records(old_thing=S.DONE), Severity.SEV1, "support")
    assert entries[-1].key == "old_thing" and entries[-1].item.label == "old_thing" and not entries[-1].required
    assert readiness(entries).required == 7


def test_pattern_routes():
    item = ChecklistItem("k", "K", required_for=(), required_for_routes=("specialist:*",))
    assert item.required(Severity.SEV4, "specialist:billing")
    assert not item.required(Severity.SEV4, "incident")


def test_unknown_key_lists_the_valid_keys_and_old_keys_map():
    entries = checklist(DEFAULT_ITEMS, {}, Severity.SEV2, "support")
    assert find_entry(entries, " Reproduction ", "CW-1").key == "observed"
    assert find_entry(entries, "logs", "CW-1").key == "attachments"
    with pytest.raises(NotFound, match="no evidence item 'bogus'; valid keys: impact, identifiers, timeline"):
        find_entry(entries, "bogus", "CW-1")


@pytest.mark.parametrize("route", ["support", "specialist:database"])
@pytest.mark.parametrize("key", ["impact", "timeline", " Reproduction ", "logs", "replication", "DROPPED"])
def test_a_case_entry_is_the_one_its_whole_checklist_holds(key, route):
    """An evidence change builds only the entry it names: the same entry, template item or one the
    template dropped, filled in or not."""
    case = Floor().do(c.NewCase(title="Export fails", customer="ACME", severity=Severity.SEV3), "agent", at=AT)
    case = case.model_copy(update={"route": route, "evidence": records(impact=S.DONE, dropped=S.PARTIAL)})
    whole = case_checklist(case, ITEMS, every_route=True)
    assert case_entry(case, ITEMS, key) == find_entry(whole, key, case.id)


def test_a_case_entry_for_an_unknown_key_lists_every_valid_key():
    case = Floor().do(c.NewCase(title="Export fails", customer="ACME", severity=Severity.SEV3), "agent", at=AT)
    case = case.model_copy(update={"evidence": records(dropped=S.DONE)})
    with pytest.raises(NotFound, match="no evidence item 'bogus'; valid keys: impact, .*, replication, dropped$"):
        case_entry(case, ITEMS, "bogus")


def entry(key="timeline", **state):
    return find_entry(checklist(DEFAULT_ITEMS, records(**state), Severity.SEV2, "support"), key, "CW-1")


def test_set_records_state_value_and_bumps_the_item_version():
    payload = decide_set("CW-1", entry(), S.PARTIAL, "14:02 first 502\r\n14:05 rollback", None, None)
    assert payload == {"key": "timeline", "before": "missing", "state": "partial",
                       "value": "14:02 first 502\n14:05 rollback", "reason": "", "version": 1}
    after = apply_set({}, payload, "tom", AT)["timeline"]
    assert (after.state, after.by, after.at, after.version) == (S.PARTIAL, "tom", AT, 1)


def test_value_none_keeps_the_text():
    payload = decide_set("CW-1", entry(timeline=S.PARTIAL), S.DONE, None, None, 1)
    assert payload["value"] == "timeline text" and payload["version"] == 2


def test_na_needs_a_reason():
    with pytest.raises(InvalidInput, match="na needs a reason"):
        decide_set("CW-1", entry(), S.NA, None, "  ", None)
    assert decide_set("CW-1", entry(), S.NA, None, "no screenshots exist", None)["reason"] == "no screenshots exist"


def test_leaving_na_drops_its_reason():
    rec = {"timeline": EvidenceRecord("timeline", S.NA, reason="n/a", version=1)}
    e = find_entry(checklist(DEFAULT_ITEMS, rec, Severity.SEV2, "support"), "timeline", "CW-1")
    assert decide_set("CW-1", e, S.PARTIAL, "x", None, None)["reason"] == ""


def test_value_limit_is_64_kib_of_utf8():
    decide_set("CW-1", entry(), S.DONE, "a" * MAX_VALUE_BYTES, None, None)
    with pytest.raises(InvalidInput, match="65537 bytes; the limit is 65536"):
        decide_set("CW-1", entry(), S.DONE, "a" * (MAX_VALUE_BYTES - 1) + "é", None, None)


def test_no_change_is_refused():
    with pytest.raises(InvalidInput, match="already partial"):
        decide_set("CW-1", entry(timeline=S.PARTIAL), S.PARTIAL, "timeline text", None, None)


def test_stale_item_version_is_a_conflict_naming_who():
    with pytest.raises(Conflict, match="changed by tom at 2026-11-27 14:00 UTC .item version 1, you had 0"):
        decide_set("CW-1", entry(timeline=S.PARTIAL), S.DONE, "mine", None, 0)


def test_old_events_and_creation_lists_map_onto_new_keys():
    assert upgrade_set_payload({"key": "reproduction", "label": "Steps", "before": False, "after": True}) == \
        {"key": "observed", "before": "missing", "state": "done"}
    undone = apply_set(records(attachments=S.DONE), {"key": "logs", "label": "L", "before": True, "after": False},
                       "tom", AT)
    assert undone["attachments"].state is S.MISSING and undone["attachments"].value == "attachments text"
    created = records_at_creation([{"key": "logs", "label": "L", "done": True},
                                   {"key": "impact", "label": "I", "done": False}], "tom", AT)
    assert list(created) == ["attachments"] and created["attachments"].state is S.DONE


# ----------------------------------------------------------------------------- the gate

def ready_for(route, **state):
    return readiness(checklist(ITEMS, records(**state), Severity.SEV2, route))


ALL_DONE = {i.key: S.DONE for i in DEFAULT_ITEMS}


def test_gate_allows_a_complete_packet():
    assert route_gate("CW-1", "specialist:network", ready_for("specialist:network", **ALL_DONE), None, AGENT) == {}


def test_gate_refuses_specialist_naming_missing_items():
    with pytest.raises(InvalidInput, match=r"cannot go to specialist:network: required evidence not ready: "
                                           r"timeline, observed.*--override REASON"):
        route_gate("CW-1", "specialist:network", ready_for("specialist:network", impact=S.DONE, identifiers=S.NA,
                                                           first_checks=S.DONE, attachments=S.DONE,
                                                           open_question=S.DONE), None, LEAD)


def test_gate_counts_route_only_items_of_the_target_route():
    with pytest.raises(InvalidInput, match="not ready: replication"):
        route_gate("CW-1", "specialist:database", ready_for("specialist:database", **ALL_DONE), None, LEAD)


def test_lead_override_is_recorded_with_the_missing_items():
    extra = route_gate("CW-1", "specialist:network", ready_for("specialist:network", **{**ALL_DONE, "timeline": S.PARTIAL}),
                       " customer is a top-10 account ", LEAD)
    assert extra == {"missing": ["timeline"], "override": "customer is a top-10 account"}


def test_only_a_lead_may_override():
    with pytest.raises(PermissionDenied, match="tom may not override the evidence gate: it needs a lead"):
        route_gate("CW-1", "specialist:network", ready_for("specialist:network"), "urgent", AGENT)


def test_incident_is_never_blocked_but_records_what_is_missing():
    assert route_gate("CW-1", "incident", ready_for("incident", **{**ALL_DONE, "impact": S.MISSING}), None, AGENT) == \
        {"missing": ["impact"]}


def test_support_needs_nothing():
    assert route_gate("CW-1", "support", ready_for("support"), None, AGENT) == {}


# ----------------------------------------------------------------------------- returns

def test_return_names_items_and_clears_an_owner_from_the_returning_team():
    entries = checklist(ITEMS, records(**ALL_DONE), Severity.SEV2, "specialist:database")
    team = returning_team("specialist:database", RAVI)
    payload = decide_return("CW-1", "specialist:database", entries, ["timeline", "logs", "timeline"],
                            " no times given ", RAVI, team)
    assert payload == {"before": "specialist:database", "after": "support", "missing": ["timeline", "attachments"],
                       "reason": "no times given", "owner_cleared": "ravi"}
    after = apply_return(records(**ALL_DONE), payload, "ravi", AT)
    assert after["timeline"].state is S.MISSING and after["timeline"].reason == "no times given"
    assert after["timeline"].value == "timeline text" and after["timeline"].version == 2
    assert after["impact"].state is S.DONE


def test_return_keeps_an_owner_from_another_team():
    entries = checklist(ITEMS, {}, Severity.SEV2, "specialist:network")
    payload = decide_return("CW-1", "specialist:network", entries, ["impact"], "thin", RAVI, "network")
    assert payload["owner_cleared"] is None


@pytest.mark.parametrize(("route", "keys", "reason", "message"), [
    ("support", ["impact"], "r", "already with support"),
    ("incident", ["impact"], " ", "needs a reason"),
    ("incident", [" ", ""], "r", "name the missing items"),
    ("incident", ["nope"], "r", "no evidence item 'nope'"),
])
def test_return_refusals(route, keys, reason, message):
    entries = checklist(ITEMS, {}, Severity.SEV2, route)
    with pytest.raises(CasewatchError, match=message):
        decide_return("CW-1", route, entries, keys, reason, None, None)
