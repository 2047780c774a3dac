"""Write-back's pure rules: the body a ticket gets (marker last, hostile characters gone, the next
update labelled in the customer's zone), ADF of text nodes only, which failures are permanent,
the back-off, the delivery's label, the config table, and who is alerted of a failed delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casewatch.core import write_back as wb
from casewatch.core.alerts import AlertSettings, Scope, delivery_alerts
from casewatch.core.errors import FileInvalid
from casewatch.core.models import Case, Event, EventType, Severity
from casewatch.core.toml_file import TomlTable, read_toml
from casewatch.core.tracker import Source, SourceSettings

AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def update(**payload) -> Event:
    base = {"known": "k", "investigating": "i", "next_milestone": "m",
            "next_update_due": (AT + timedelta(hours=1)).isoformat()}
    return Event(id=17, case_id="CW-1042", type=EventType.CUSTOMER_UPDATE_LOGGED, actor="dana", occurred_at=AT,
                 recorded_at=AT, payload=base | payload)


def test_the_body_is_the_structured_update_then_the_marker():
    assert wb.body(update()) == ("What we know: k\nWhat we are investigating: i\nNext milestone: m\n"
                                 "Next update: by Fri 27 Nov 2026 15:00 UTC\n\n— sent from casewatch (ref CW-1042/17)")
    assert "Next update: by Fri 27 Nov 2026 16:00 CET" in wb.body(update(), "Europe/Berlin")
    assert "Next update" not in wb.body(update(next_update_due=None))
    assert "Next update" not in wb.body(update(next_update_due="not a time"))
    note = Event(id=18, case_id="CW-1042", type=EventType.NOTE_ADDED, actor="dana", occurred_at=AT, recorded_at=AT,
                 payload={"text": "line one\r\nline two\ttabbed"})
    assert wb.body(note) == "line one\nline two    tabbed\n\n— sent from casewatch (ref CW-1042/18)"


def test_only_updates_and_our_own_notes_are_delivered():
    assert wb.kind_of(update()) == wb.UPDATE
    synced = Event(id=1, case_id="CW-1", type=EventType.NOTE_ADDED, actor="dana", occurred_at=AT, recorded_at=AT,
                   payload={"text": "no longer escalated in zd", "via": "zd"})
    assert wb.kind_of(synced) is None  # the tracker's own news does not go back to it
    review = Event(id=2, case_id="CW-1", type=EventType.REVIEW_LOGGED, actor="dana", occurred_at=AT, recorded_at=AT,
                   payload={"notes": "x"})
    assert wb.kind_of(review) is None
    assert wb.WriteBack(customer_updates=True).wants(wb.UPDATE) and not wb.WriteBack().wants(wb.NOTE)


def test_control_bidi_and_invisible_characters_never_reach_a_tracker():
    hostile = "a\x1b[2Jb\x07c\u202ed\u200be\u2028f\ufeffg\U000e0041h\x00i"
    assert wb.sendable(hostile) == "a[2Jbcdefghi"  # the escape's own character is gone: the rest is text
    assert wb.sendable("<b>*x*</b> {code} &amp;") == "<b>*x*</b> {code} &amp;"  # markup stays text


def test_adf_is_paragraphs_of_plain_text_nodes_and_reads_back():
    document = wb.adf("*bold* [x|https://e]\n\n<b>tag</b>")
    assert document == {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "*bold* [x|https://e]"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "<b>tag</b>"}]}]}
    assert wb.adf_text(document) == "*bold* [x|https://e]\n<b>tag</b>"
    assert wb.adf_text({"type": "doc", "content": [None, {"type": "text", "text": 3}]}) == ""


@pytest.mark.parametrize(("status", "tries", "state", "again"), [
    (None, 1, wb.FAILED, True), (500, 3, wb.FAILED, True), (503, 1, wb.FAILED, True),
    (404, 1, wb.DEAD, False), (403, 1, wb.DEAD, False), (400, 1, wb.DEAD, False),
    (422, 1, wb.FAILED, True), (422, 3, wb.DEAD, True), (409, 1, wb.FAILED, False),
])
def test_which_failures_are_permanent(status, tries, state, again):
    assert wb.failure_state(status, tries) == state
    assert wb.retried_in_pass(status) is again


def test_a_failed_item_backs_off_to_half_an_hour():
    assert [wb.next_try(AT, n) - AT for n in (1, 2, 3, 10, 100)] == [
        timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=30),
        timedelta(minutes=30)]


def test_a_delivery_reads_as_the_case_shows_it():
    sent = wb.Delivery(17, "zd", "1", wb.UPDATE, wb.SENT, 1, comment_id="98765", sent_at=AT)
    assert sent.label("Europe/Berlin") == "sent 15:00 (comment 98765)" and not sent.undelivered
    failed = wb.Delivery(17, "zd", "1", wb.UPDATE, wb.FAILED, 3, last_error="HTTP 503")
    assert failed.label() == "failed (HTTP 503, will retry)" and failed.undelivered
    dead = wb.Delivery(17, "zd", "1", wb.UPDATE, wb.DEAD, 3, last_error="HTTP 404")
    assert dead.label() == "not delivered (HTTP 404; `casewatch deliver --retry` tries again)"
    assert wb.Delivery(17, "zd", "1", wb.UPDATE, wb.QUEUED).label() == "queued"
    assert sent.as_json()["sent_at"] == AT.isoformat()


def test_the_write_back_table_is_off_by_default_and_checked_line_by_line():
    assert SourceSettings(kind="zendesk").write_back == wb.WriteBack()
    text = ('[zd]\nkind = "zendesk"\n[zd.write_back]\nnotes = 1\nowner = true\n'
            '[zd.assignees]\ndana = 12345\nravi = "12x"\n')
    with pytest.raises(FileInvalid) as raised:
        read_toml(Sources, text, "c.toml")
    assert str(raised.value) == ("2 problems: c.toml:4: zd.write_back.notes: must be true or false; c.toml:6: "
                                 "zd.assignees: ravi: a Zendesk assignee is a user id, a number such as 12345")
    with pytest.raises(FileInvalid) as raised:
        read_toml(Sources, '[zd]\nkind = "zendesk"\n[zd.assignees]\nDana = 1\nlee = "a b"\n', "c.toml")
    assert str(raised.value).startswith("2 problems: c.toml:4: zd.assignees.Dana: handle: 'Dana' is not a handle")
    assert "c.toml:5: zd.assignees.lee: must be the tracker's id of that person" in str(raised.value)
    with pytest.raises(FileInvalid) as raised:
        read_toml(Sources, '[zd]\nkind = "jira"\n[zd.write_back]\nowner = true\n', "c.toml")
    assert str(raised.value).startswith("c.toml:3: zd.write_back: owner = true needs an assignees table")
    jira = read_toml(Sources, '[zd]\nkind = "jira"\nassignees = {dana = "712020:5b1-ac_8d"}\n'
                              '[zd.write_back]\nowner = true\n', "c.toml").zd
    assert jira.assignees == {"dana": "712020:5b1-ac_8d"} and jira.write_back.wants(wb.OWNER)


def owner(event_id: int, after: str | None, minutes: int, **payload) -> Event:
    at = AT + timedelta(minutes=minutes)
    return Event(id=event_id, case_id="CW-1", type=EventType.OWNER_ASSIGNED, actor="lee", occurred_at=at,
                 recorded_at=at, payload={"before": None, "after": after} | payload)


def test_only_the_latest_owner_is_sent_and_never_one_the_tracker_set():
    first, backfilled, tracker = owner(5, "dana", 10), owner(6, "ravi", 5), owner(7, "lee", 20, via="zd")
    assert wb.kind_of(first) == wb.OWNER and wb.kind_of(tracker) is None  # the ticket's own assignee stays there
    assert wb.body(first) == "assignee: dana" and wb.body(owner(8, None, 0)) == "assignee: nobody"
    assert wb.later_owner([first, backfilled], 6) == first  # history order, not id order
    assert wb.later_owner([first, backfilled], 5) is None
    assert wb.later_owner([first, backfilled, tracker], 5) == tracker
    skipped = wb.Delivery(5, "zd", "1", wb.OWNER, wb.SKIPPED, 0, last_error="superseded by event 7")
    assert skipped.label() == "not sent (superseded by event 7)" and not skipped.undelivered


class Sources(TomlTable):
    zd: SourceSettings


def case(case_id: str, owner: str | None) -> Case:
    return Case(id=case_id, title="t", customer="c", severity=Severity.SEV1, route="r", internal_owner=owner,
                escalated_at=AT, updated_at=AT, updated_by="dana", last_occurred_at=AT)


def test_a_failed_delivery_is_listed_for_its_watchers_and_rung_once():
    failed = wb.Delivery(17, "zd", "1", wb.UPDATE, wb.DEAD, 1, last_error="HTTP 404")
    told = wb.Delivery(18, "zd", "1", wb.UPDATE, wb.DEAD, 1, last_error="HTTP 404", alerted=True)
    cases = {"CW-1": case("CW-1", "ravi"), "CW-2": case("CW-2", "dana")}
    undelivered = {"CW-1": [failed, told], "CW-2": [failed], "CW-9": [failed]}
    mine = delivery_alerts(undelivered, cases, viewer="dana", shift_lead=None, settings=AlertSettings(), now=AT)
    assert [(a.case_id, a.delivery.event_id) for a in mine] == [("CW-2", 17)]
    every = delivery_alerts(undelivered, cases, viewer="dana", shift_lead=None,
                            settings=AlertSettings(cases=Scope.ALL), now=AT, told={("CW-2", 17)})
    assert [(a.case_id, a.delivery.event_id, a.rung_elsewhere) for a in every] == [
        ("CW-1", 17, False), ("CW-1", 18, True)]  # another board rang 18: listed here, not rung again
    assert every[0].text() == "CW-1 (SEV1) update not delivered to zd ticket 1: HTTP 404 — t"
    assert every[0].environment()["CASEWATCH_ALERT"] == "delivery" and every[0].at == AT


def test_the_ticket_may_only_move_to_statuses_the_table_maps_to_waiting():
    zendesk = Source.of("zd", SourceSettings(kind="zendesk", status={"pending": "investigating",
                                                                      "awaiting reply": "waiting_on_customer"}))
    assert wb.waiting_statuses(zendesk.statuses, "zendesk") == ["awaiting reply"]
    assert wb.waiting_statuses(Source.of("zd", SourceSettings(kind="zendesk")).statuses, "zendesk") == ["pending"]
    jira = Source.of("sup", SourceSettings(kind="jira"))
    assert wb.waiting_statuses(jira.statuses, "jira") == ["pending", "waiting for customer"]
    sent = wb.Delivery(17, "sup", "SUP-7", wb.UPDATE, wb.SENT, 1, comment_id="5",
                       last_error="status not changed: HTTP 400", sent_at=AT)
    assert sent.label() == "sent 14:00 (comment 5; status not changed: HTTP 400)"
