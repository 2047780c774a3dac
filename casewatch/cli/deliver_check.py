"""`casewatch deliver --check`: has every update the log says goes to a ticket a row, and is every
delivery marked sent on its ticket?

First from the log, without reading a tracker: every event of the window that counts and that this
sender's config writes back (its kind wanted by the source its case's logged link names) must have
its outbox row. A member may delete one, or point it at another event or source, and then nothing
would say so: one missing is queued again (failed and due now; `outbox.restore_missing`), and the
same run's pass sends it, once (the marker is looked for first).

In team mode members may write the outbox, so `sent` is a claim: a member who sets a row to `sent`
withholds that update from the customer while the board shows it delivered. The check reads the
ticket of each update and note marked sent whose event the log recorded in the window, and looks
for the delivery as the sender does before every send (the marker, in a comment whose whole text
is the update's). One not found is re-queued: failed and due now (the board flags and alerts it),
then the same run's pass sends it. A row that does not match the log is refused for good. Re-queuing
never posts twice: the sender looks for the marker again before it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from casewatch.cli.live_source import LiveSource
from casewatch.core import write_back as wb
from casewatch.core.errors import CasewatchError
from casewatch.core.text import visible
from casewatch.sources.http import Sleep, TrackerClient, TrackerDenied
from casewatch.sources.write_back import find_marker
from casewatch.storage import outbox
from casewatch.storage.store import Store

CONFIRMED, REQUEUED, FORGED, UNREAD, MISSING = "confirmed", "requeued", "forged", "unread", "missing"
NOT_ON_TICKET = "marked sent, but not on the ticket (the outbox is writable by members): re-queued"


@dataclass
class CheckReport:
    """What the check found, item by item (for --json) and in one line."""

    done: list[dict] = field(default_factory=list)

    def add(self, item: outbox.Claimed, state: str, detail: str | None = None) -> None:
        self.done.append({"case": item.case_id, "event_id": item.event_id, "source": item.source,
                          "ticket": item.ticket, "kind": item.kind, "state": state, "error": detail})

    def count(self, state: str) -> int:
        return sum(1 for item in self.done if item["state"] == state)

    def line(self) -> str:
        sent = sum(1 for item in self.done if item["state"] != MISSING)
        parts = [f"checked {sent} sent: {self.count(CONFIRMED)} on their ticket"]
        if requeued := self.count(REQUEUED):
            parts.append(f"{requeued} not on it (re-queued)")
        if forged := self.count(FORGED):
            parts.append(f"{forged} not matching the log (never sent)")
        if unread := self.count(UNREAD):
            parts.append(f"{unread} not checked (the tracker did not answer)")
        if missing := self.count(MISSING):
            parts.append(f"{missing} missing from the outbox (queued again)")
        return ", ".join(parts)

    def problems(self, *states: str) -> list[str]:
        return [f"{item['case']} {item['kind']} to {item['source']} ticket {item['ticket']}: {item['error']}"
                for item in self.done if item["state"] in states]


async def restore_missing(store: Store, sources: dict[str, LiveSource], since: datetime,
                          report: CheckReport | None = None) -> CheckReport:
    """The part from the log alone (no tracker read; `sync --follow` runs it every pass): each
    event since `since` these sources write back that has no outbox row is queued again."""
    report = CheckReport() if report is None else report
    rules = {name: live.settings.write_back for name, live in sources.items()}
    for item in await outbox.restore_missing(store, rules, since):
        report.add(item, MISSING, outbox.MISSING)
    return report


async def check_sent(store: Store, sources: dict[str, LiveSource], since: datetime, sleep: Sleep,
                     timeout: float = 30.0) -> CheckReport:
    """Queue again each event since `since` that has no outbox row; look for each delivery marked
    sent since `since` on its ticket, and re-queue those not there. A refused credential (401) ends
    the check, raised."""
    report = await restore_missing(store, sources, since)
    clients: dict[str, TrackerClient] = {}
    try:
        for item in await outbox.sent_since(store, since):
            live = sources.get(item.source)
            if live is None:
                continue  # not a source this sender writes back to
            trusted = await outbox.trusted_body(store, item)
            if trusted is None:
                reason = "marked sent, but does not match the log (forged, or its event does not count): never sent"
                await outbox.refuse_forged(store, item, reason)
                report.add(item, FORGED, reason)
                continue
            if item.source not in clients:
                clients[item.source] = live.client(sleep, timeout=timeout, kept=None)
            try:
                found = await find_marker(clients[item.source], live.settings.kind, item.ticket, item.marker,
                                          trusted.body, item.kind == wb.UPDATE)
            except TrackerDenied as exc:
                if exc.status == 401:
                    raise
                report.add(item, UNREAD, visible(str(exc))[:200])
                continue
            except CasewatchError as exc:
                report.add(item, UNREAD, visible(str(exc))[:200])
                continue
            if found is not None:
                report.add(item, CONFIRMED)
            elif await outbox.requeue(store, item, NOT_ON_TICKET):
                report.add(item, REQUEUED, NOT_ON_TICKET)
    finally:
        for client in clients.values():
            await client.close()
    return report
