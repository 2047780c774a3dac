"""Write-back on a real database (SQLite and PostgreSQL) against a Zendesk and a Jira on 127.0.0.1:
an update queued with its event and sent once; a send the tracker took but never answered, not
posted again; 500 then success; a permanent 422; hostile text reaching the tracker as text; a
forged outbox row never sent; write-back off sending nothing; two senders on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import insert, select, update

from casewatch.cli.deliver_command import deliver_pass
from casewatch.cli.live_source import LiveSource
from casewatch.core import commands as c
from casewatch.core import write_back as wb
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Event, EventType, Person, Role, Status
from casewatch.core.ticket_import import TicketPlan, plan_ticket
from casewatch.core.tracker import Source, SourceSettings, Ticket
from casewatch.storage import convert, outbox
from casewatch.storage.schema import events
from casewatch.storage.schema import outbox as outbox_table
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.sources.trackers import Comments, status

LEAD = Person(name="dana", role=Role.LEAD, tz="Europe/Berlin")
ON = wb.WriteBack(customer_updates=True, notes=True)
HOSTILE = "<b>bold</b> *not bold* {panel}x{panel} [link|https://evil.example] &amp; \u200bzero-width"


def live(kind: str, url: str, write_back: wb.WriteBack = ON) -> LiveSource:
    jql = {"jql": "project = SUP"} if kind == "jira" else {}
    settings = SourceSettings(kind=kind, url=url, email="lead@acme.com", token_env="CASEWATCH_ZD_TOKEN",
                              write_back=write_back, **jql)
    return LiveSource(Source.of("zd" if kind == "zendesk" else "sup", settings), settings)


class Waits:
    def __init__(self):
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
def tickets(httpserver, monkeypatch):
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", "t0ken-value")
    return Comments(httpserver).serve()


async def linked_case(store: Store, kind: str = "zendesk", ticket: str = "1") -> str:
    source = live(kind, "http://127.0.0.1:1").source
    plan = plan_ticket(Ticket(id=ticket, title="Checkout fails", customer="Acme", priority="high", status="open"),
                       None, source, await store.roster(), store.clock())
    assert isinstance(plan, TicketPlan)
    [first, *_] = await store.execute_many([(command, "dana", at) for command, at in plan.commands])
    assert first.event.case_id is not None
    return first.event.case_id


def update_on(case_id: str, known: str = "Payments fail for EU cards") -> c.CustomerUpdate:
    return c.CustomerUpdate(case_id=case_id, known=known, investigating="the gateway's certificate",
                            next_milestone="a fix deployed to staging")


async def rows(store: Store) -> list:
    return await store.read_rows(select(outbox_table).order_by(outbox_table.c.id))


async def test_an_update_is_queued_with_its_event_and_sent_once(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        written = await store.execute(update_on(case_id), "dana")
        await store.execute(c.Note(case_id=case_id, text="checked the logs"), "dana")
        [queued, note] = await rows(store)
        assert (queued.event_id, queued.state, queued.ticket, queued.kind) == (written.event.id, "queued", "1",
                                                                              "update")
        assert note.kind == "note"
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent", "sent"]
        [reply, internal] = tickets.posted["1"]
        assert reply["public"] is True and internal["public"] is False
        assert reply["body"] == (
            "What we know: Payments fail for EU cards\nWhat we are investigating: the gateway's certificate\n"
            "Next milestone: a fix deployed to staging\nNext update: by Fri 27 Nov 2026 15:00 UTC\n\n"
            f"— sent from casewatch (ref {case_id}/{written.event.id})")
        deliveries = await outbox.deliveries(store, case_id)
        assert deliveries[written.event.id].label("UTC") == "sent 14:00 (comment 98765)"
        again = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert again.done == [] and len(tickets.posted["1"]) == 2
        assert [m for m, _ in tickets.requests] == ["GET", "PUT", "GET", "PUT"]  # a look before every send
        assert not await store.verify()


async def test_a_send_taken_but_never_answered_is_found_by_its_marker_not_posted_twice(db_target, frozen_clock,
                                                                                      tickets):
    tickets.hold_next = lambda: threading.Event().wait(1.2)  # answers after the client (0.5 s) gave up
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits(), timeout=0.5)
        assert [item["state"] for item in report.done] == ["sent"]
        assert len(tickets.posted["1"]) == 1
        methods = [m for m, _ in tickets.requests]  # (a look-up sent while the server still hangs may time out too)
        assert methods[:2] == ["GET", "PUT"] and methods.count("PUT") == 1 and "GET" in methods[2:]
        [row] = await rows(store)
        assert (row.state, row.comment_id) == ("sent", "98765")
        assert row.attempts in (2, 3)  # the look-up of the 2nd try may time out while the server still holds the 1st


async def test_500_then_success_and_a_permanent_422(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        tickets.failures = [status(500)]
        waits = Waits()
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=waits)
        assert [item["state"] for item in report.done] == ["sent"] and waits.asked == [1.0]
        assert [m for m, _ in tickets.requests] == ["GET", "PUT", "GET", "PUT"]  # looked before sending again
        assert len(tickets.posted["1"]) == 1

        await store.execute(update_on(case_id, "second"), "dana")
        tickets.failures = [status(422, body="RecordInvalid: closed\x1b[31m\nred t0ken-value")] * 3
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        [dead] = report.done
        assert dead["state"] == "dead" and dead["error"] == "HTTP 422: RecordInvalid: closed\\x1b[31m\\nred [token] (3 tries)"
        assert "\x1b" not in dead["error"] and "t0ken" not in dead["error"]
        row = (await rows(store))[-1]
        assert (row.state, row.attempts) == ("dead", 3)
        assert (await outbox.undelivered(store))[case_id][0].label().startswith("not delivered (HTTP 422")
        assert (await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())).done == []
        assert await outbox.retry_case(store, case_id) == 1
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"] and len(tickets.posted["1"]) == 2


async def test_a_tracker_that_does_not_answer_is_tried_three_times_a_pass_in_the_senders_words(
        db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        waits = Waits()
        report = await deliver_pass(store, {"zd": live("zendesk", "http://127.0.0.1:1")}, sleep=waits)  # refused
        [failed] = report.done
        assert failed["state"] == "failed" and waits.asked == [1.0, 2.0]  # three sends, the pass's waits only
        assert failed["error"].startswith("ConnectError talking to http://127.0.0.1:1")
        assert "synced" not in failed["error"] and "times" not in failed["error"]  # not a sync's words
        [row] = await rows(store)
        assert row.attempts == 3


async def test_unavailable_items_wait_backing_off(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        tickets.failures = [status(503)] * 3
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["failed"]
        [row] = await rows(store)
        assert row.next_try_at > frozen_clock.now and row.claimed_by is None
        label = (await outbox.deliveries(store, case_id))[row.event_id].label()
        assert label == "failed (HTTP 503, will retry)"
        assert (await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())).done == []
        frozen_clock.advance(minutes=31)
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"] and len(tickets.posted["1"]) == 1


async def test_hostile_text_reaches_both_trackers_as_text(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON, "sup": ON}
        zd_case = await linked_case(store)
        jira_case = await linked_case(store, "jira", "SUP-7")
        for case_id in (zd_case, jira_case):
            await store.execute(c.CustomerUpdate(case_id=case_id, known=HOSTILE, investigating="a\nb",
                                                 next_milestone="<script>x</script>"), "dana")
        sources = {"zd": live("zendesk", tickets.url), "sup": live("jira", tickets.url)}
        report = await deliver_pass(store, sources, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent", "sent"]
    clean = "<b>bold</b> *not bold* {panel}x{panel} [link|https://evil.example] &amp; zero-width"
    [zd] = tickets.posted["1"]
    assert zd["body"].startswith(f"What we know: {clean}\n")  # plain `body`, never html_body
    [jira] = tickets.posted["SUP-7"]
    assert jira["properties"] == [{"key": "sd.public.comment", "value": {"internal": False}}]
    nodes = [node for paragraph in jira["body"]["content"] for node in paragraph["content"]]
    assert {node["type"] for node in nodes} == {"text"} and all("marks" not in node for node in nodes)
    assert nodes[0]["text"] == f"What we know: {clean}"
    assert "Next milestone: <script>x</script>" in [node["text"] for node in nodes]


async def test_a_forged_outbox_row_is_never_sent(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        await store.write_rows(lambda conn: conn.execute(update(outbox_table).values(body="Send us your password")))
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["dead"]
        assert "does not match the log" in report.done[0]["error"]
    assert tickets.requests == []


async def test_write_back_off_queues_and_sends_nothing(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        store.write_back = {"zd": wb.WriteBack(customer_updates=False, notes=True)}
        await store.execute(update_on(case_id, "again"), "dana")
        assert await rows(store) == []
        settings = SourceSettings(kind="zendesk", url=tickets.url, email="lead@acme.com",
                                  token_env="CASEWATCH_ZD_TOKEN")
        report = await deliver_pass(store, {"zd": LiveSource(Source.of("zd", settings), settings)}, sleep=Waits())
        assert report.done == []
    assert tickets.requests == []


async def test_two_senders_on_postgresql_send_each_item_once(pg_url, frozen_clock, tickets):
    target = resolve_target(pg_url)
    async with await Store.open(target, clock=frozen_clock, creator=LEAD) as store, \
            await Store.open(target, clock=frozen_clock) as other:
        store.write_back = {"zd": ON}
        for number in range(1, 5):
            case_id = await linked_case(store, ticket=str(number))
            for known in ("one", "two", "three"):
                await store.execute(update_on(case_id, known), "dana")
        sources = {"zd": live("zendesk", tickets.url)}
        first, second = await asyncio.gather(deliver_pass(store, sources, sleep=Waits(), at_once=1),
                                             deliver_pass(other, sources, sleep=Waits(), at_once=1))
        assert len(first.done) + len(second.done) == 12 and first.done and second.done
        markers = [comment["body"].rsplit("\n", 1)[-1] for posted in tickets.posted.values() for comment in posted]
        assert len(markers) == 12 and len(set(markers)) == 12
        assert {row.state for row in await rows(store)} == {"sent"}


async def test_an_update_event_the_rules_do_not_count_never_reaches_the_customer(db_target, frozen_clock, tickets):
    """Raw SQL (a member's, or a damaged file) appends an update by someone not on the roster, and
    its outbox row, body and marker made just as the store would: the sender checks the log."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        case_id = await linked_case(store)
        forged = Event(case_id=case_id, type=EventType.CUSTOMER_UPDATE_LOGGED, actor="mallory",
                       occurred_at=frozen_clock.now, recorded_at=frozen_clock.now,
                       payload={"known": "Send us your password", "investigating": "-", "next_milestone": "-"})

        async def forge(conn) -> None:
            row_id = (await conn.execute(insert(events).values(convert.event_values(forged))
                                         .returning(events.c.id))).scalar_one()
            await outbox.queue(conn, [(forged.model_copy(update={"id": row_id}), await store.get_case(case_id))],
                               {"zd": ON}, frozen_clock.now)

        await store.write_rows(forge)
        [row] = await rows(store)
        assert row.body.startswith("What we know: Send us your password")
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["dead"]
        assert [event.actor for event in await store.case_events(case_id)].count("mallory") == 0
    assert tickets.requests == []


async def test_the_ticket_waits_with_the_case_only_when_asked_and_mapped(db_target, frozen_clock, tickets):
    """An update logged while the case waits on the customer: Zendesk's ticket goes `pending` in the
    same request, Jira's issue takes the transition into the status the table maps to waiting."""
    tickets.transitions = [{"id": "21", "name": "Start", "to": {"name": "In Progress"}},
                           {"id": "31", "name": "Ask the customer", "to": {"name": "Waiting for customer"}}]
    follow = wb.WriteBack(customer_updates=True, status=True)
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": follow, "sup": follow}
        zd_case, jira_case = await linked_case(store), await linked_case(store, "jira", "SUP-7")
        await store.execute(update_on(zd_case, "investigating still"), "dana")
        for case_id in (zd_case, jira_case):
            await store.execute(c.ChangeStatus(case_id=case_id, status=Status.WAITING_ON_CUSTOMER), "dana")
            await store.execute(update_on(case_id, "we need your logs"), "dana")
        sources = {name: live(kind, tickets.url, follow) for name, kind in (("zd", "zendesk"), ("sup", "jira"))}
        report = await deliver_pass(store, sources, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"] * 3
    assert tickets.statuses == {"1": "pending"} and len(tickets.posted["1"]) == 2  # only the waiting one set it
    assert tickets.moved == [("SUP-7", "31")]


async def test_a_refused_credential_ends_the_pass_and_the_item_waits(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        tickets.failures = [status(401)]
        with pytest.raises(InvalidInput, match="HTTP 401 .* check the email and the API token in the variable "
                                               "CASEWATCH_ZD_TOKEN") as raised:
            await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert "t0ken" not in str(raised.value)
        [row] = await rows(store)
        assert (row.state, row.claimed_by, row.last_error) == ("failed", None, "HTTP 401: check the API token")
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"] and len(tickets.posted["1"]) == 1


async def test_a_sent_row_reset_to_queued_is_found_on_the_ticket_not_posted_again(db_target, frozen_clock, tickets):
    """Members may write the outbox (their boards queue): one who sets a sent row back to `queued`,
    its attempts to 0, makes the sender look once and record the comment already there."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        async with store._writer.begin() as conn:
            await conn.execute(update(outbox_table).values(state="queued", attempts=0, comment_id=None, sent_at=None,
                                                           next_try_at=frozen_clock.now))
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url)}, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"]
        assert len(tickets.posted["1"]) == 1
        assert [m for m, _ in tickets.requests] == ["GET", "PUT", "GET"]
        [row] = await rows(store)
        assert (row.state, row.comment_id) == ("sent", "98765")


async def test_what_the_senders_source_does_not_send_is_never_sent_and_a_quoted_marker_is_not_the_delivery(
        db_target, frozen_clock, tickets):
    """From the third attack run: a member queued a note for a source whose write-back sends only
    updates, and planted the marker line in a note of their own on the ticket to make a real update
    count as delivered."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}  # the member's board queues notes too
        case_id = await linked_case(store)
        written = await store.execute(update_on(case_id), "dana")
        await store.execute(c.Note(case_id=case_id, text="internal only"), "dana")
        marker = wb.marker(written.event)
        tickets.posted["1"] = [{"id": 5001, "body": f"see below\n\n{marker}", "plain_body": f"see below\n\n{marker}",
                                "public": False}]
        async with store._writer.begin() as conn:
            await conn.execute(update(outbox_table).values(attempts=1))  # as if a send had had no answer
        updates_only = wb.WriteBack(customer_updates=True, notes=False)
        report = await deliver_pass(store, {"zd": live("zendesk", tickets.url, updates_only)}, sleep=Waits())
        assert sorted(item["state"] for item in report.done) == ["dead", "sent"]
        [planted, reply] = tickets.posted["1"]
        assert planted["id"] == 5001 and reply["public"] is True and reply["body"].endswith(marker)
        update_row, note_row = await rows(store)
        assert update_row.comment_id != "5001" and note_row.state == "dead"


OWNERS = wb.WriteBack(owner=True)
ASSIGNEES = {"zendesk": {"dana": "12345", "lee": "777"}, "jira": {"dana": "5b10ac8d82e05b22cc7d4ef5"}}


def owning(kind: str, url: str) -> LiveSource:
    jql = {"jql": "project = SUP"} if kind == "jira" else {}
    settings = SourceSettings(kind=kind, url=url, email="lead@acme.com", token_env="CASEWATCH_ZD_TOKEN",
                              write_back=OWNERS, assignees=ASSIGNEES[kind], **jql)
    return LiveSource(Source.of("zd" if kind == "zendesk" else "sup", settings), settings)


async def test_the_owner_becomes_the_assignee_once_only_the_latest_and_only_when_mapped(db_target, frozen_clock,
                                                                                       tickets):
    """Zendesk and Jira each get their case's owner once; an owner with no assignee id is not
    delivered and nothing is asked of the ticket; an owner that failed and was then replaced is
    skipped, so the retry never sets the stale assignee; nobody unassigns."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        for name in ("lee", "ravi"):
            await store.execute(c.AddPerson(name=name, role=Role.AGENT), "dana")
        store.write_back = {"zd": OWNERS, "sup": OWNERS}
        zd_case, jira_case = await linked_case(store), await linked_case(store, "jira", "SUP-7")
        unmapped_case = await linked_case(store, ticket="2")
        stale = await store.execute(c.Assign(case_id=zd_case, name="dana"), "dana")
        for case_id, name in ((jira_case, "dana"), (unmapped_case, "ravi")):
            await store.execute(c.Assign(case_id=case_id, name=name), "dana")
        assert [(row.kind, row.body) for row in await rows(store)] == [("owner", "assignee: dana")] * 2 + [
            ("owner", "assignee: ravi")]
        sources = {"zd": owning("zendesk", tickets.url), "sup": owning("jira", tickets.url)}
        tickets.failures = [status(503)] * 3  # the first owner of ticket 1 does not get through in this pass
        report = await deliver_pass(store, sources, sleep=Waits())
        assert [item["state"] for item in report.done] == ["failed", "sent", "dead"]
        assert report.done[2]["error"] == "ravi has no assignee id in [sources.zd.assignees]: never sent"
        assert tickets.assigned == {"SUP-7": ["5b10ac8d82e05b22cc7d4ef5"]}
        assert not any(path.endswith("/2.json") for _, path in tickets.requests)

        newer = await store.execute(c.Assign(case_id=zd_case, name="lee"), "dana")
        await store.execute(c.Assign(case_id=jira_case, name=None), "dana")
        frozen_clock.advance(minutes=31)
        report = await deliver_pass(store, sources, sleep=Waits())
        assert [item["state"] for item in report.done] == ["skipped", "sent", "sent"]
        assert tickets.assigned == {"1": [777], "SUP-7": ["5b10ac8d82e05b22cc7d4ef5", None]}
        shown = await outbox.deliveries(store, zd_case)
        assert shown[stale.event.id].label() == f"not sent (a later owner (event {newer.event.id}) replaced it: " \
                                                "never sent)"
        assert shown[newer.event.id].label("UTC") == "sent 14:31"
        assert (await deliver_pass(store, sources, sleep=Waits())).done == []
        assert list(await outbox.undelivered(store)) == [unmapped_case]  # the skipped one is not flagged


async def test_no_owner_goes_back_with_owner_off_nor_one_the_tracker_set(db_target, frozen_clock, tickets):
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(c.Assign(case_id=case_id, name="dana"), "dana")
        store.write_back = {"zd": OWNERS}
        await store.execute(c.Assign(case_id=case_id, name=None, via="zd"), "dana")  # a sync took the ticket's
        assert await rows(store) == []
        assert (await deliver_pass(store, {"zd": owning("zendesk", tickets.url)}, sleep=Waits())).done == []
    assert tickets.requests == []


async def test_a_queued_row_set_to_sent_is_found_off_its_ticket_re_queued_and_sent_once(db_target, frozen_clock,
                                                                                         tickets):
    """`deliver --check`'s look: a row marked sent whose delivery is not on the ticket (set to sent
    by hand) is re-queued, failed and due, and sent once; one on its ticket is confirmed; only updates
    the log recorded in the window are read."""
    from datetime import timedelta

    from casewatch.cli.deliver_check import check_sent

    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        await store.execute(update_on(case_id), "dana")
        sources = {"zd": live("zendesk", tickets.url)}
        await deliver_pass(store, sources, sleep=Waits())
        await store.execute(update_on(case_id, "withheld"), "dana")
        async with store._writer.begin() as conn:
            await conn.execute(update(outbox_table).where(outbox_table.c.state == "queued").values(state="sent"))
        checked = await check_sent(store, sources, frozen_clock.now - timedelta(days=7), Waits())
        assert [item["state"] for item in checked.done] == ["confirmed", "requeued"]
        [_, flagged] = await rows(store)
        assert (flagged.state, flagged.alerted) == ("failed", False)
        assert (await outbox.undelivered(store))[case_id][0].event_id == flagged.event_id
        report = await deliver_pass(store, sources, sleep=Waits())
        assert [item["state"] for item in report.done] == ["sent"] and len(tickets.posted["1"]) == 2
        assert "What we know: withheld" in tickets.posted["1"][1]["body"]
        later = await check_sent(store, sources, frozen_clock.now + timedelta(minutes=1), Waits())
        assert later.done == []


async def test_a_deleted_row_is_queued_again_from_the_log_and_an_implausible_claim_holds_nothing(
        db_target, frozen_clock, tickets):
    """N4: a member deletes a queued update's row, claims a note until `infinity`, moves another
    update's row to a source nobody sends and hides a third as `skipped`. `deliver --check` queues again, from the log, each event
    whose row is missing or elsewhere (only events of its window); a claim or wait no sender makes
    holds nothing (the case shows it due), while a real sender's lease still does; each update
    reaches the ticket once."""
    from datetime import timedelta

    from sqlalchemy import delete, text

    from casewatch.cli.deliver_check import check_sent

    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        deleted = await store.execute(update_on(case_id, "deleted"), "dana")
        noted = await store.execute(c.Note(case_id=case_id, text="claimed forever"), "dana")
        moved = await store.execute(update_on(case_id, "moved"), "dana")
        hidden = await store.execute(update_on(case_id, "hidden"), "dana")
        async with store._writer.begin() as conn:
            await conn.execute(update(outbox_table).where(outbox_table.c.event_id == hidden.event.id)
                               .values(state="skipped"))
            await conn.execute(delete(outbox_table).where(outbox_table.c.event_id == deleted.event.id))
            await conn.execute(text("UPDATE outbox SET claimed_until = 'infinity', claimed_by = 'zz', "
                                    "next_try_at = 'infinity' WHERE kind = 'note'"))
            await conn.execute(update(outbox_table).where(outbox_table.c.event_id == moved.event.id)
                               .values(source="nowhere"))
        shown = await outbox.deliveries(store, case_id)
        assert shown[noted.event.id].label().startswith("due (held by no sender's lease")
        assert shown[noted.event.id].as_json()["due"] is True
        sources = {"zd": live("zendesk", tickets.url)}
        assert (await check_sent(store, sources, frozen_clock.now + timedelta(minutes=1), Waits())).done == []
        checked = await check_sent(store, sources, frozen_clock.now - timedelta(days=7), Waits())
        lost = (deleted, moved, hidden)
        assert [(item["event_id"], item["state"]) for item in checked.done] == [(e.event.id, "missing") for e in lost]
        assert checked.line() == "checked 0 sent: 0 on their ticket, 3 missing from the outbox (queued again)"
        flagged = (await outbox.undelivered(store))[case_id]
        assert {delivery.event_id for delivery in flagged} == {e.event.id for e in lost}
        report = await deliver_pass(store, sources, sleep=Waits())
        assert sorted(item["event_id"] for item in report.done) == sorted(e.event.id for e in (*lost, noted))
        assert {item["state"] for item in report.done} == {"sent"}
        markers = [comment["body"].rsplit("\n", 1)[-1] for comment in tickets.posted["1"]]
        assert sorted(markers) == sorted(wb.marker(e.event) for e in (*lost, noted))
        again = await check_sent(store, sources, frozen_clock.now - timedelta(days=7), Waits())
        assert [item["state"] for item in again.done] == ["confirmed"] * 4
        assert (await deliver_pass(store, sources, sleep=Waits())).done == [] and len(tickets.posted["1"]) == 4


async def test_a_real_senders_lease_still_keeps_others_off(db_target, frozen_clock, tickets):
    """A claim a sender could hold (now + the lease, on another machine) keeps the row until it ends."""
    async with await Store.open(db_target, clock=frozen_clock, creator=LEAD) as store:
        store.write_back = {"zd": ON}
        case_id = await linked_case(store)
        written = await store.execute(update_on(case_id), "dana")
        async with store._writer.begin() as conn:
            await conn.execute(update(outbox_table).values(claimed_until=frozen_clock.now + outbox.LEASE,
                                                           claimed_by="elsewhere@1:0123456789abcdef"))
        assert (await outbox.deliveries(store, case_id))[written.event.id].label() == "queued"
        sources = {"zd": live("zendesk", tickets.url)}
        assert (await deliver_pass(store, sources, sleep=Waits())).done == []
        frozen_clock.advance(minutes=6)
        assert [item["state"] for item in (await deliver_pass(store, sources, sleep=Waits())).done] == ["sent"]
        assert len(tickets.posted["1"]) == 1
