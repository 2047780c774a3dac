"""`casewatch deliver`: the sender of write-back. It claims the due deliveries of the sources whose
write-back is on, checks each against the log, and sends it once; `sync --follow` runs a pass too.

Exactly once: each send is counted (committed) before it goes out, and every send is preceded by a
search of the ticket's latest comments for the item's marker; found, it is recorded as sent with
that comment's id. So a send that got no answer, an item a killed sender left counted, and an
outbox row a team member reset to `queued` (members may write the outbox) all cost one look-up,
never a second comment. A 5xx or no answer
is tried again in the pass (three sends, a short wait between), then the item waits for a later
pass, backing off to thirty minutes. 403, 404 and a 422 that stays are permanent: the item is
`dead`, said plainly, until `casewatch deliver --retry CASE`.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field

import orjson

from casewatch.cli.live_source import LiveSource, PassStopped
from casewatch.cli.session import Session
from casewatch.core import write_back as wb
from casewatch.core.errors import CasewatchError, InvalidInput, Unavailable
from casewatch.core.text import counted, visible
from casewatch.core.tracker import LIVE
from casewatch.sources.http import Sleep, TrackerClient, TrackerDenied, TrackerStatus, TrackerUnavailable
from casewatch.sources.write_back import find_marker, move_to, post_comment
from casewatch.storage import outbox
from casewatch.storage.imports import importer
from casewatch.storage.store import Store

WAITS = (1.0, 2.0)  # seconds between the sends of one item in a pass


@dataclass
class DeliverReport:
    """What one pass did, item by item (for --json) and in one line."""

    done: list[dict] = field(default_factory=list)

    def add(self, item: outbox.Claimed, state: str, detail: str | None = None, comment: str | None = None) -> None:
        self.done.append({"case": item.case_id, "event_id": item.event_id, "source": item.source,
                          "ticket": item.ticket, "kind": item.kind, "state": state, "comment_id": comment,
                          "error": detail})

    def count(self, state: str) -> int:
        return sum(1 for item in self.done if item["state"] == state)

    def line(self) -> str:
        if not self.done:
            return "nothing to deliver"
        parts = [f"{self.count(wb.SENT)} sent"]
        if failed := self.count(wb.FAILED):
            parts.append(f"{failed} failed (will retry)")
        if dead := self.count(wb.DEAD):
            parts.append(f"{dead} not delivered (permanent: `casewatch deliver --retry CASE` tries again)")
        return ", ".join(parts)

    def problems(self, state: str) -> list[str]:
        """One line per item left in `state` (failed or dead) by this pass."""
        words = {wb.FAILED: "failed, will retry", wb.DEAD: "not delivered"}
        return [f"{item['case']} {item['kind']} to {item['source']} ticket {item['ticket']}: {words[state]}: "
                f"{item['error']}" for item in self.done if item["state"] == state]


def writing_sources(session: Session, roster: dict) -> dict[str, LiveSource]:
    """The configured live sources whose write-back is on (their settings checked as a sync's are)."""
    names = sorted(name for name, settings in session.config.sources.items()
                   if settings.write_back.customer_updates or settings.write_back.notes)
    found = {}
    for name in names:
        if session.config.sources[name].kind not in LIVE:
            raise InvalidInput(f"source {name} is of kind {session.config.sources[name].kind}: only zendesk and "
                               "jira tickets can be written back to; remove its write_back table")
        found[name] = LiveSource.of(name, session.config, roster)
    return found


async def deliver_pass(store: Store, sources: dict[str, LiveSource], *, sleep: Sleep = asyncio.sleep,
                       timeout: float = 30.0, stop: asyncio.Event | None = None,
                       at_once: int = outbox.CLAIM_AT_ONCE) -> DeliverReport:
    """Send every due delivery of `sources` once (until `stop`). A refused credential (401) ends the
    pass, raised; anything else is the item's outcome, recorded."""
    report = DeliverReport()
    clients: dict[str, TrackerClient] = {}
    try:
        while not (stop is not None and stop.is_set()):
            claimed = await outbox.claim(store, sources, at_once)
            if not claimed:
                break
            for position, item in enumerate(claimed):
                if stop is not None and stop.is_set():
                    for rest in claimed[position:]:
                        await outbox.release(store, rest)
                    break
                live = sources[item.source]
                if item.source not in clients:
                    clients[item.source] = live.client(sleep, timeout=timeout, retries=0, kept=None)  # tries: _deliver
                try:
                    await _deliver(store, clients[item.source], live, item, report, sleep)
                except BaseException:
                    for rest in claimed[position + 1:]:
                        await outbox.release(store, rest)
                    raise
    finally:
        for client in clients.values():
            await client.close()
    return report


async def _deliver(store: Store, client: TrackerClient, live: LiveSource, item: outbox.Claimed,
                   report: DeliverReport, sleep: Sleep) -> None:
    kind, trusted = live.settings.kind, await outbox.trusted_body(store, item)
    if trusted is None:
        reason = "does not match the log (forged, or its event does not count): never sent"
        await outbox.record_failure(store, item, wb.DEAD, reason, store.clock())
        report.add(item, wb.DEAD, reason)
        return
    body, tries = trusted.body, 0
    follow = live.settings.write_back.status and trusted.waiting and item.kind == wb.UPDATE
    statuses = wb.waiting_statuses(live.source.statuses, kind) if follow else []
    while True:
        before = await outbox.start_send(store, item)
        if before is None:
            return  # another sender holds it now
        tries += 1
        try:
            comment = await find_marker(client, kind, item.ticket, item.marker)  # every time: see the docstring
            if comment is None:
                waits = statuses[0] if statuses and kind == "zendesk" else None
                comment = await post_comment(client, kind, item.ticket, body, item.kind == wb.UPDATE, waits)
        except TrackerDenied as exc:
            if exc.status == 401:  # our credential, not the item: it waits, and the pass ends
                await outbox.record_failure(store, item, wb.FAILED, "HTTP 401: check the API token", store.clock())
                raise
            await _failed(store, item, report, 403, "HTTP 403: the ticket refuses our comments", tries)
            return
        except (TrackerStatus, TrackerUnavailable) as exc:
            status = exc.status if isinstance(exc, TrackerStatus) else None
            if wb.retried_in_pass(status) and tries < wb.TRIES:
                await sleep(WAITS[min(tries, len(WAITS)) - 1])
                continue
            await _failed(store, item, report, status, _reason(exc, item.source), tries)
            return
        note = await _jira_status(client, item, statuses) if statuses and kind == "jira" else None
        await outbox.record_sent(store, item, comment, note)
        report.add(item, wb.SENT, note, comment)
        return


async def _jira_status(client: TrackerClient, item: outbox.Claimed, statuses: list[str]) -> str | None:
    """After the comment: the issue follows the case into waiting on the customer. Its failure
    leaves the comment sent, and is said beside it (never retried: the comment went)."""
    try:
        moved = await move_to(client, item.ticket, statuses)
    except CasewatchError as exc:
        return f"status not changed: {_reason(exc, item.source)}"
    return None if moved else "status not changed: no transition to " + " or ".join(statuses)


async def _failed(store: Store, item: outbox.Claimed, report: DeliverReport, status: int | None, reason: str,
                  tries: int) -> None:
    state = wb.failure_state(status, tries)
    if state == wb.DEAD and status in wb.RETRIED_THEN_DEAD:
        reason += f" ({counted(tries, 'try', 'tries')})"
    await outbox.record_failure(store, item, state, reason, wb.next_try(store.clock(), item.attempts + tries))
    report.add(item, state, reason)


def _reason(exc: CasewatchError, source: str) -> str:
    """`HTTP 422: what the tracker said`, else the client's one line (both without the token)."""
    if isinstance(exc, TrackerStatus):
        return visible(f"HTTP {exc.status}: {exc.detail}" if exc.detail else f"HTTP {exc.status}")[:200]
    return visible(str(exc).removeprefix(f"source {source}: "))[:200]


async def run_deliver(session: Session, store: Store) -> None:
    """`casewatch deliver [--retry CASE] [--json]`: one pass, then exit 0 (all sent, or nothing to
    do), 4 (items wait for the tracker) or 2 (some were refused for good)."""
    args = session.args
    roster = await importer(store, session.actor)
    sources = writing_sources(session, roster)
    if args.retry:
        case_id = await store.case_id_named(args.retry)
        again = await outbox.retry_case(store, case_id)
        if not args.json:
            print(f"{case_id}: {counted(again, 'delivery', 'deliveries')} to try again", flush=True)
    try:
        report = await deliver_pass(store, sources)
    except PassStopped:
        return
    if args.json:
        print(orjson.dumps(report.done).decode())
    else:
        print(visible(report.line()), flush=True)
    waiting, refused = report.problems(wb.FAILED), report.problems(wb.DEAD)
    last = (waiting or refused)[-1:]
    for line in waiting + refused:
        if line not in last:
            print(f"casewatch: {visible(line)}", file=sys.stderr)
    if waiting:
        raise Unavailable(waiting[-1])
    if refused:
        raise InvalidInput(refused[-1])
