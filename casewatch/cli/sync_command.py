"""`casewatch sync`: the configured Zendesk and Jira sources read into linked cases, once or every
interval (`--follow`), as the person running it (each event marked `via` the source).

A pass reads page after page; each page's cases and the cursor after it commit together, so a
pass killed anywhere resumes where its last page committed. A failing pass is recorded in the
source's state (the board's status line shows it) and, under --follow, tried again later, backing
off to ten minutes. The token is read from its variable or file for each pass, and is in no
message: the client removes it from anything the tracker says. Under --follow, each pass also runs
write-back's sender, after queuing again what the log says is missing from the outbox.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import orjson

from casewatch.cli.deliver_check import MISSING, restore_missing
from casewatch.cli.deliver_command import deliver_pass, writing_sources
from casewatch.cli.live_source import LiveSource, PassStopped, stoppable
from casewatch.cli.session import Session
from casewatch.core.durations import parse_duration
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.models import Person
from casewatch.core.sync import SyncReport, next_wait
from casewatch.core.text import visible
from casewatch.core.tracker import LIVE
from casewatch.sources.http import Sleep, TrackerDenied
from casewatch.sources.pages import PageShape
from casewatch.storage.imports import importer
from casewatch.storage.store import Store
from casewatch.storage.sync import plan_page, save_failure, save_success, source_states_now, write_page

__all__ = ["LiveSource", "PassStopped", "run_sync", "stoppable", "sync_pass"]

# Under --follow each pass first queues again, from the log alone, what these senders write back
# and has no outbox row (a member deleted it): for events since the follow began (never older ones,
# such as updates logged before write-back was turned on), at most this far back.
FOLLOW_RESTORES = timedelta(days=1)


async def sync_pass(store: Store, live: LiveSource, actor: str, roster: dict[str, Person], *,
                    dry_run: bool = False, sleep: Sleep = asyncio.sleep,
                    stop: asyncio.Event | None = None) -> SyncReport:
    """One pass of one source, to the end of its stream (or until `stop`, between transactions).
    A failure is recorded in the source's state, then raised."""
    report = SyncReport(live.name)
    states = await source_states_now(store)
    state = states.get(live.name)
    since = state.failing_since if state else None
    try:
        client = live.client(sleep)
    except CasewatchError as exc:
        if not dry_run:
            await save_failure(store, live.name, "token", store.clock(), since)
        raise exc from None
    cursor = state.cursor if state else None
    if cursor is not None and (doubt := live.cursor_doubt(cursor, store.clock())) is not None:
        print(f"casewatch: source {live.name}: its saved cursor is none a sync saves ({doubt}; a member may write it): "
              "reading the last 30 days again, as a first sync does", file=sys.stderr, flush=True)
        cursor = None
    try:
        async for page in live.pages(client, cursor, store):
            report.pages += 1
            if dry_run:
                await plan_page(store, live.source, page, roster, report)
            else:
                await write_page(store, live.source, page, actor, roster, report)
            if stop is not None and stop.is_set():
                break
    except PassStopped:
        return report  # what committed stays; the next run resumes after it
    except CasewatchError as exc:
        if not dry_run:
            await save_failure(store, live.name, _reason(exc), store.clock(), since)
        raise
    finally:
        await client.close()
    if not dry_run:
        await save_success(store, live.name, store.clock())
    return report


def _reason(exc: CasewatchError) -> str:
    """What the status line says of a failing pass (a word or a code, never the tracker's text)."""
    if isinstance(exc, TrackerDenied):
        return str(exc.status)
    return "bad page" if isinstance(exc, PageShape) else "unavailable"


def _names(session: Session) -> list[str]:
    names = session.args.names or sorted(n for n, s in session.config.sources.items() if s.kind in LIVE)
    if not names:
        raise InvalidInput("no zendesk or jira source in the config file: add a [sources.NAME] table "
                           "(see the README's `casewatch sync`)")
    return names


async def run_sync(session: Session, store: Store) -> None:
    args = session.args
    roster = await importer(store, session.actor)
    sources = [LiveSource.of(name, session.config, roster) for name in _names(session)]
    if args.follow:
        await _follow(session, store, sources, roster)
        return
    reports, failed = [], []
    for live in sources:  # a source that fails leaves the others to sync; the worst exit code is the command's
        try:
            report = await sync_pass(store, live, session.actor, roster, dry_run=args.dry_run)
        except CasewatchError as exc:
            failed.append(exc)
            continue
        reports.append(report)
        if not args.json:
            print(visible(report.line(dry_run=args.dry_run)), flush=True)
    if args.json and (reports or not failed):
        print(orjson.dumps([r.as_json(dry_run=args.dry_run) for r in reports]).decode())
    if failed:
        worst = max(failed, key=lambda exc: exc.exit_code)
        for other in failed:
            if other is not worst:
                print(f"casewatch: {visible(str(other))}", file=sys.stderr)
        raise worst


async def _follow(session: Session, store: Store, sources: list[LiveSource], roster: dict[str, Person]) -> None:
    """Pass after pass until Ctrl+C or SIGTERM, which stop it between transactions. SIGUSR1 ends
    the wait between passes, so an operator (or a deploy hook) can have the next pass now."""
    every = parse_duration(session.args.every)  # a minute at least: within every tracker's limits
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, wake.set)
    failures = dict.fromkeys((live.name for live in sources), 0)
    senders = writing_sources(session, roster)
    started = store.clock()
    try:
        while not stop.is_set():
            wake.clear()  # a SIGUSR1 during this pass asks for the one after it at once
            for live in sources:
                if stop.is_set():
                    break
                try:
                    report = await sync_pass(store, live, session.actor, roster, sleep=stoppable(stop), stop=stop)
                except CasewatchError as exc:
                    failures[live.name] += 1
                    _log(store, f"{live.name}: {exc}")
                    continue
                failures[live.name] = 0
                if report.changed_anything:
                    _log(store, report.line())
            if senders and not stop.is_set():  # write-back: what the board queued since the last pass
                try:
                    since = max(started, store.clock() - FOLLOW_RESTORES)  # rows missing: see deliver_check
                    for line in (await restore_missing(store, senders, since)).problems(MISSING):
                        _log(store, f"deliver: {line}")
                    sent = await deliver_pass(store, senders, sleep=stoppable(stop), stop=stop)
                except PassStopped:
                    break
                except CasewatchError as exc:
                    _log(store, f"deliver: {exc}")
                else:
                    if sent.done:
                        _log(store, f"deliver: {sent.line()}")
            wait = next_wait(every, max(failures.values()))
            await _first_of(stop.wait(), wake.wait(), timeout=wait.total_seconds())
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            loop.remove_signal_handler(signum)
    _log(store, "stopped")


async def _first_of(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:
    """Return when any of the waits ends or the timeout passes, cancelling the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _log(store: Store, line: str) -> None:
    """One line on stderr, stamped in UTC (labelled)."""
    print(f"{store.clock():%Y-%m-%d %H:%M:%S} UTC {visible(line)}", file=sys.stderr, flush=True)
