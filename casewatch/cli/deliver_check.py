"""`casewatch deliver --check`: is every delivery marked sent on its ticket?

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

CONFIRMED, REQUEUED, FORGED, UNREAD = "confirmed", "requeued", "forged", "unread"
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
        parts = [f"checked {len(self.done)} sent: {self.count(CONFIRMED)} on their ticket"]
        if requeued := self.count(REQUEUED):
            parts.append(f"{requeued} not on it (re-queued)")
        if forged := self.count(FORGED):
            parts.append(f"{forged} not matching the log (never sent)")
        if unread := self.count(UNREAD):
            parts.append(f"{unread} not checked (the tracker did not answer)")
        return ", ".join(parts)

    def problems(self, *states: str) -> list[str]:
        return [f"{item['case']} {item['kind']} to {item['source']} ticket {item['ticket']}: {item['error']}"
                for item in self.done if item["state"] in states]


async def check_sent(store: Store, sources: dict[str, LiveSource], since: datetime, sleep: Sleep,
                     timeout: float = 30.0) -> CheckReport:
    """Look for each delivery marked sent since `since` on its ticket; re-queue those not there. A
    refused credential (401) ends the check, raised."""
    report = CheckReport()
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
