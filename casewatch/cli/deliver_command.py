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

An owner sets the ticket's assignee: harmless to repeat, so no marker is looked for; an owner a
later one replaced is `skipped`, so a retry never sets a stale assignee.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from casewatch.cli.deliver_check import FORGED, MISSING, REQUEUED, UNREAD, check_sent
from casewatch.cli.live_source import LiveSource, PassStopped
from casewatch.cli.session import Session
from casewatch.core import write_back as wb
from casewatch.core.durations import parse_duration
from casewatch.core.errors import CasewatchError, Conflict, InvalidInput, Unavailable
from casewatch.core.text import counted, visible
from casewatch.core.tracker import LIVE
from casewatch.sources.http import Sleep, TrackerClient, TrackerDenied, TrackerStatus, TrackerUnavailable
from casewatch.sources.write_back import find_marker, move_to, post_comment, set_assignee
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
        if skipped := self.count(wb.SKIPPED):
            parts.append(f"{skipped} skipped (a later owner replaced it)")
        return ", ".join(parts)

    def problems(self, state: str) -> list[str]:
        """One line per item left in `state` (failed or dead) by this pass."""
        words = {wb.FAILED: "failed, will retry", wb.DEAD: "not delivered"}
        return [f"{item['case']} {item['kind']} to {item['source']} ticket {item['ticket']}: {words[state]}: "
                f"{item['error']}" for item in self.done if item["state"] == state]


def writing_sources(session: Session, roster: dict) -> dict[str, LiveSource]:
    """The configured live sources whose write-back is on (their settings checked as a sync's are)."""
    names = sorted(name for name, settings in session.config.sources.items()
                   if settings.write_back.on)
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
    """Send every delivery due as the pass starts, each at most once (until `stop`): rows queued
    meanwhile, or re-queued by a member, wait for the next pass, so a pass always ends. A refused
    credential (401) ends the pass, raised; anything else is the item's outcome, recorded."""
    report = DeliverReport()
    clients: dict[str, TrackerClient] = {}
    pending = await outbox.due_now(store, sources)
    try:
        while pending and not (stop is not None and stop.is_set()):
            offered, pending = pending[:at_once], pending[at_once:]
            claimed = await outbox.claim(store, sources, at_once, offered)
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
    if not live.settings.write_back.wants(item.kind):  # members may queue what this source does not send
        reason = f"this source's write-back does not send {item.kind}s: never sent"
        await outbox.record_failure(store, item, wb.DEAD, reason, store.clock())
        report.add(item, wb.DEAD, reason)
        return
    if item.kind == wb.OWNER:
        await _deliver_owner(store, client, live, item, trusted, report, sleep)
        return
    body = trusted.body
    follow = live.settings.write_back.status and trusted.waiting and item.kind == wb.UPDATE
    statuses = wb.waiting_statuses(live.source.statuses, kind) if follow else []

    async def comment() -> str | None:
        found = await find_marker(client, kind, item.ticket, item.marker, body,  # every time: see the docstring
                                  item.kind == wb.UPDATE)
        if found is not None:
            return found
        waits = statuses[0] if statuses and kind == "zendesk" else None
        return await post_comment(client, kind, item.ticket, body, item.kind == wb.UPDATE, waits)

    sent = await _send(store, item, report, sleep, comment, "the ticket refuses our comments")
    if sent is None:
        return
    note = await _jira_status(client, item, statuses) if statuses and kind == "jira" else None
    await outbox.record_sent(store, item, sent.comment, note)
    report.add(item, wb.SENT, note, sent.comment)


async def _deliver_owner(store: Store, client: TrackerClient, live: LiveSource, item: outbox.Claimed,
                         trusted: outbox.Trusted, report: DeliverReport, sleep: Sleep) -> None:
    """The ticket's assignee becomes the case's owner: only the latest owner, only one the
    source's assignees table maps to the tracker's id (nobody: the ticket is unassigned)."""
    if trusted.superseded_by is not None:
        reason = f"a later owner (event {trusted.superseded_by}) replaced it: never sent"
        await outbox.record_skipped(store, item, reason)
        report.add(item, wb.SKIPPED, reason)
        return
    handle, assignees = trusted.owner, live.settings.assignees
    if handle is not None and handle not in assignees:
        reason = wb.unmapped(handle, item.source)
        await outbox.record_failure(store, item, wb.DEAD, reason, store.clock())
        report.add(item, wb.DEAD, reason)
        return
    user = assignees[handle] if handle is not None else None

    async def assign() -> None:
        await set_assignee(client, live.settings.kind, item.ticket, user)

    if await _send(store, item, report, sleep, assign, "the ticket refuses our assignee") is not None:
        await outbox.record_sent(store, item, None)
        report.add(item, wb.SENT)


@dataclass(frozen=True)
class _Sent:
    comment: str | None  # the tracker's id of the comment (an owner has none)


async def _send(store: Store, item: outbox.Claimed, report: DeliverReport, sleep: Sleep,
                send: Callable[[], Awaitable[str | None]], refused: str) -> _Sent | None:
    """Run `send`, each try counted (committed) first, tried again in the pass as `retried_in_pass`
    says; None when it did not go (its failure recorded, or another sender holds the item now)."""
    tries = 0
    while True:
        if await outbox.start_send(store, item) is None:
            return None  # another sender holds it now
        tries += 1
        try:
            return _Sent(await send())
        except TrackerDenied as exc:
            if exc.status == 401:  # our credential, not the item: it waits, and the pass ends
                await outbox.record_failure(store, item, wb.FAILED, "HTTP 401: check the API token", store.clock())
                raise
            await _failed(store, item, report, 403, f"HTTP 403: {refused}", tries)
            return None
        except (TrackerStatus, TrackerUnavailable) as exc:
            status = exc.status if isinstance(exc, TrackerStatus) else None
            if wb.retried_in_pass(status) and tries < wb.TRIES:
                await sleep(WAITS[min(tries, len(WAITS)) - 1])
                continue
            await _failed(store, item, report, status, _reason(exc, item.source), tries)
            return None


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
    """`casewatch deliver [--retry CASE] [--check [--since 7d]] [--json]`: one pass, then exit 0
    (all sent, or nothing to do), 4 (items wait for the tracker), 2 (some were refused for good) or,
    with --check, 3 (an update's row was missing, or a delivery marked sent was not on its ticket:
    queued again, and sent by the pass)."""
    args = session.args
    roster = await importer(store, session.actor)
    sources = writing_sources(session, roster)
    if args.retry:
        case_id = await store.case_id_named(args.retry)
        again = await outbox.retry_case(store, case_id)
        if not args.json:
            print(f"{case_id}: {counted(again, 'delivery', 'deliveries')} to try again", flush=True)
    checked = None
    if args.check:
        since = store.clock() - parse_duration(args.since)
        checked = await check_sent(store, sources, since, asyncio.sleep)
        if not args.json:
            print(visible(checked.line()), flush=True)
    try:
        report = await deliver_pass(store, sources)
    except PassStopped:
        return
    if args.json:
        done = report.done if checked is None else {"checked": checked.done, "delivered": report.done}
        print(orjson.dumps(done).decode())
    else:
        print(visible(report.line()), flush=True)
    problems: list[tuple[type[CasewatchError], str]] = [
        *((Conflict, line) for line in (checked.problems(MISSING, REQUEUED, FORGED) if checked else [])),
        *((Unavailable, line) for line in (checked.problems(UNREAD) if checked else []) + report.problems(wb.FAILED)),
        *((InvalidInput, line) for line in report.problems(wb.DEAD))]
    kinds = {kind for kind, _ in problems}
    worst = next((kind for kind in (Unavailable, InvalidInput, Conflict) if kind in kinds), None)
    if worst is None:
        return
    last = max(i for i, (kind, _) in enumerate(problems) if kind is worst)  # the exit's own line; the others first
    for i, (_, line) in enumerate(problems):
        if i != last:
            print(f"casewatch: {visible(line)}", file=sys.stderr)
    raise worst(problems[last][1])
