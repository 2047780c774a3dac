"""Every `casewatch` subcommand, one entry each: its arguments, the command it builds (or what it
runs) and how its result is printed. A new command is one `Write` line in `SUBCOMMANDS`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from difflib import get_close_matches
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from casewatch.cli import environment as env
from casewatch.cli import render
from casewatch.cli.session import Session
from casewatch.cli.spec import CASE_ID, Local, Read, Subcommand, Write, arg
from casewatch.cli.terminal import signals_end_the_command
from casewatch.core import commands as c
from casewatch.core import handoff_export, reviews
from casewatch.core.breaches import case_breaches
from casewatch.core.case_filter import CaseFilter, Seen, parse_filter
from casewatch.core.clocks import ClockKind, plan_clocks
from casewatch.core.demo import demo_plan
from casewatch.core.errors import InvalidInput, NotFound, ProjectionsDiffer, Unavailable
from casewatch.core.evidence import case_checklist
from casewatch.core.handoff import HandoffStatus, Packet, PacketDiff
from casewatch.core.listing import CaseListing, list_case
from casewatch.core.models import (
    EvidenceState,
    Person,
    Role,
    Severity,
    Status,
    check_zone,
    day_start,
    iso_z,
    parse_instant_or_day,
    parse_route,
    parse_timestamp,
)
from casewatch.core.packet import case_packet, evidence_json, packet_json, packet_markdown
from casewatch.core.policy import parse_policy
from casewatch.core.saved_views import saved_views, view_named
from casewatch.core.templates import fill, find_template
from casewatch.core.text import check_free_handle, check_login, counted
from casewatch.core.ticket_import import ImportReport
from casewatch.core.views import (
    View,
    authority_label,
    case_flags,
    case_summary,
    describe_event,
    event_json,
    in_view,
    listing_order,
)
from casewatch.local_marks import read_seen
from casewatch.sources.csv_file import parse_map, read_csv
from casewatch.storage import outbox
from casewatch.storage.imports import importer, plan_import, write_tickets
from casewatch.storage.migrate import head_revision
from casewatch.storage.roles import grant_statement
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Outcome, Store
from casewatch.storage.team import init_team

DEMO_CASES = 60
DEMO_SEED = 42

SEVERITIES = [s.value for s in Severity]
STATUSES = [s.value for s in Status if s is not Status.NEW]
ROUTES = ["support", "incident", "specialist:"]
EVIDENCE_STATES = [s.value for s in EvidenceState]


def _print_json(value: Any) -> None:
    """A list prints one item per line (greppable, and quick: an indented dump of 10,000 cases is
    slow); anything else indented. UTF-8 as it is, control characters escaped (orjson)."""
    if isinstance(value, list):
        items = ",\n".join(f"  {orjson.dumps(item).decode()}" for item in value)
        print(f"[\n{items}\n]" if value else "[]")
    else:
        print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


# ------------------------------------------------------------------------ reads

def _as_of(session: Session, store: Store) -> datetime | None:
    """The instant `--as-of` replays to."""
    return _not_future(session.args.as_of, store.clock())


def _not_future(as_of: datetime | None, now: datetime) -> datetime | None:
    """A replay instant is never in the future, which no log has reached yet."""
    if as_of is not None and as_of > now:
        raise InvalidInput(f"--as-of {iso_z(as_of)} is in the future; a replay reaches now at most")
    return as_of


async def _window(session: Session, store: Store) -> tuple[datetime | None, datetime | None]:
    """[--since, --until) as instants: a bare date starts at midnight in the viewer's zone."""
    edges = (session.args.since, session.args.until)
    zone = await session.zone(store) if any(type(edge) is date for edge in edges) else ""  # read once, if needed
    since, until = (day_start(edge, zone) if type(edge) is date else edge for edge in edges)
    if since is not None and until is not None and since >= until:
        raise InvalidInput("--since must be before --until")
    return since, until


async def _metrics(session: Session, store: Store) -> None:
    args = session.args
    as_of = _as_of(session, store) or store.clock()
    since, until = await _window(session, store)
    (result,) = await store.metrics([(since, until)], as_of)
    if args.json:
        _print_json(result.as_dict() | {"since": iso_z(since), "until": iso_z(until), "as_of": iso_z(as_of)})
    elif args.csv:
        sys.stdout.write(render.metrics_csv(result.as_dict()))
    else:
        print(render.metrics_table(result.as_dict()))


async def _reviews(session: Session, store: Store) -> None:
    args = session.args
    since, until = await _window(session, store)
    rows = []
    async for history in store.case_histories():
        row = reviews.case_review(history)
        if row is not None and reviews.in_window(row, since, until) and (row.avoidable or not args.avoidable):
            rows.append(row)
    rows.sort(key=lambda row: row.at, reverse=True)
    by_cause = reviews.avoidable_by_cause(rows)
    if args.json:
        _print_json({"reviews": [row.as_dict() for row in rows], "avoidable_by_cause": by_cause})
    else:
        print(render.reviews_table(rows, by_cause, await session.zone(store)))


async def _cases(session: Session, store: Store) -> None:
    args = session.args
    status: Status | None = args.status
    if _as_of(session, store) is not None:
        if args.all or status is Status.RESOLVED:
            raise InvalidInput("--as-of lists the cases open at that instant; leave out --all and --status resolved")
        found, now = await store.open_listings_as_of(args.as_of), args.as_of
        found = [listing for listing in found if status is None or listing.status is status]
    else:
        found, now = await store.listings(status, every=args.all), store.clock()
    view = args.view or View.ALL
    chosen: CaseFilter = args.filter
    if args.saved_view is not None:  # a saved view is its filter; --filter narrows it further
        saved = parse_filter(view_named(saved_views(session.config.views), args.saved_view).query)
        chosen = parse_filter(f"{saved.text} {chosen.text}") if chosen else saved
    shift = await store.current_shift(now)
    lead = shift.lead if shift else None  # the shift lead's own cases include those with no named authority
    unread = await _unread(session, store, found) if chosen.asks_unread else frozenset()
    seen = Seen(session.actor, now, {listing.id: listing.clocks for listing in found}, unread, shift_lead=lead)
    rows = [listing for listing in listing_order(found) if (not chosen or chosen.matches(listing, seen))
            and in_view(view, listing, listing.clocks, session.actor, now, lead)]
    if args.ids:
        for listing in rows:  # nothing at all when nothing matches: xargs then runs nothing
            print(listing.id)
    elif args.json:
        _print_json([case_summary(listing, now) for listing in rows])
    elif rows:
        print(render.case_table(rows, now))
    else:
        if view is not View.ALL or args.filter:
            print("no case matches")
        else:
            print("no cases" if args.all else f"no {status.value.replace('_', ' ') if status else 'open'} cases")


async def _unread(session: Session, store: Store, found: list[CaseListing]) -> frozenset[str]:
    """`is:unread` as the board shows it to this person on this machine (their marks file; none
    kept yet: nothing is unread). Only the cases changed since they last opened them are read whole."""
    last, problem = read_seen(session.actor, store.target.describe())
    if problem is not None:
        print(f"warning: {problem}; no case counts as unread", file=sys.stderr)
    if last is None:
        return frozenset()
    changed = {listing.id for listing in found if listing.version > last.versions.get(listing.id, -1)}
    return frozenset(case.id for case in await store.cases_by_id(changed) if last.is_unread(case, session.actor))


async def _show_case(session: Session, store: Store) -> None:
    args = session.args
    case = await store.get_case(await store.case_id_named(args.case_id))
    policy = await store.policy()
    events = await store.case_events(case.id)
    now = store.clock()
    policies = await store.policy_history()
    clocks = plan_clocks(case, policy, policies.until(now))
    breaches = case_breaches(events, policies, now)
    shift = await store.current_shift()
    authority = authority_label(case, shift.lead if shift else None)
    deliveries = await outbox.deliveries(store, case.id)
    if args.json:
        summary = case_summary(list_case(case, policy), now)
        summary |= {
            "summary": case.summary, "route_authority": case.route_authority,
            "route_authority_shown": authority,
            "participants": [asdict(p) for p in case.participants],
            "owner_named_at": iso_z(case.owner_named_at),
            "flags": case_flags(case, policy, shift.lead if shift else None),
            "breaches": [breach.as_json() for breach in breaches],
            "timeline": [event_json(e) | ({"delivery": deliveries[e.id].as_json()} if e.id in deliveries else {})
                         for e in events],
            "review": review.as_dict() if (review := reviews.case_review(events)) and case.review else None,
            "source_seen": case.source_seen if case.source else None,
        }
        _print_json(summary)
    else:
        print(render.case_details(case, clocks, policy, events, breaches, now, await session.zone(store), authority,
                                  shift.lead if shift else None, deliveries))


async def _list_evidence(session: Session, store: Store) -> None:
    args = session.args
    if args.key is not None or args.state is not None:
        raise InvalidInput("--json lists every item; leave out KEY and --state")
    case = await store.get_case(await store.case_id_named(args.case_id))
    entries = case_checklist(case, (await store.policy()).evidence, every_route=True)
    _print_json([evidence_json(entry) for entry in entries])


async def _packet(session: Session, store: Store) -> None:
    args = session.args
    case = await store.get_case(await store.case_id_named(args.case_id))
    shift = await store.current_shift()
    packet = case_packet(case, await store.policy(), await store.case_events(case.id), await session.zone(store),
                         store.clock(), shift.lead if shift else None)
    if args.format == "json":
        _print_json(packet_json(packet))
    else:
        print(packet_markdown(packet), end="")


async def _list_people(session: Session, store: Store) -> None:
    roster = await store.roster()
    if session.args.json:
        _print_json([p.model_dump(mode="json") for p in roster.values()])
    else:
        print(render.people_table(roster))


async def _show_policy(session: Session, store: Store) -> None:
    print((await store.policy()).to_toml(), end="")


def _read_text_file(name: str) -> str:
    """A UTF-8 file the user named (`-` is stdin); one line on what is wrong otherwise."""
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"{name}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInput(f"{name}: {exc.strerror}") from None


def _check_policy(args: argparse.Namespace) -> int:
    parse_policy(_read_text_file(args.file), args.file)
    print(f"{args.file}: ok")
    return 0


async def _show_shift(session: Session, store: Store) -> None:
    view = await store.lead_view()
    print(render.shift_line(view.shift, view.pending, store.clock(), await session.zone(store)))


def _viewer_zones(session: Session, packet: Packet) -> tuple[str, str]:
    """The incoming lead's zone and the outgoing lead's; --tz puts the viewer's in place of the first."""
    first = check_zone(session.args.tz) if getattr(session.args, "tz", None) else packet.incoming.tz
    return first, packet.outgoing.tz


async def _show_handoff(session: Session, store: Store) -> None:
    args = session.args
    now, replayed = _as_of(session, store) or store.clock(), args.as_of is not None
    found = await store.handoff(args.handoff_id, args.as_of) if args.handoff_id is not None else None
    if found is None:
        packet = await store.handoff_preview(session.actor, args.to, as_of=args.as_of)
        diff = None
    else:
        packet = found.packet
        diff = await store.handoff_changes(found, args.as_of) if found.status is HandoffStatus.PENDING else None
    zones = _viewer_zones(session, packet)
    if args.format == "json":
        _print_json(handoff_export.packet_json(packet, now, handoff=found, diff=diff, zones=zones, replayed=replayed))
    else:
        print(handoff_export.packet_markdown(packet, now, handoff=found, diff=diff, zones=zones, replayed=replayed),
              end="")


async def _list_handoffs(session: Session, store: Store) -> None:
    handoffs, now = await store.handoffs(), store.clock()
    if session.args.json:
        _print_json([handoff_export.packet_json(h.packet, now, handoff=h) | {"cases": len(h.packet.cases)}
                     for h in handoffs])
    else:
        print(render.handoff_table(handoffs, now, await session.zone(store)) if handoffs else "no handoffs yet")


async def _upgrade_db(session: Session, store: Store) -> None:
    done = "migrated to" if store.migrated else "already at"
    print(f"{session.target.describe()}: schema {done} {head_revision()}")


def _rows(count: int) -> str:
    return f"{count or 'no'} projection row{'' if count == 1 else 's'}"


async def _verify_db(session: Session, store: Store) -> None:
    differences = await store.verify()
    for difference in differences:
        print(difference.line())
    if differences:
        raise ProjectionsDiffer(f"{_rows(len(differences))} {'differs' if len(differences) == 1 else 'differ'} "
                                "from the log of "
                                f"{session.target.describe()}: `casewatch db rebuild` repairs them")
    print(f"{session.target.describe()}: every projection matches a replay of the log")


async def _rebuild_db(session: Session, store: Store) -> None:
    differences = await store.rebuild()
    for difference in differences:
        print(difference.line())
    left = [d for d in differences if not d.repaired]
    if left:
        raise InvalidInput(f"{_rows(len(differences) - len(left))} repaired; {len(left)} of "
                           f"{', '.join(sorted({d.table for d in left}))} need a login that may write them: an "
                           "administrator runs `casewatch db rebuild`")
    print(f"{session.target.describe()}: {_rows(len(differences))} repaired; every projection matches the log")


async def _audit_db(session: Session, store: Store) -> None:
    """The quarantined events: forged or malformed claims the fold keeps out of every state."""
    found = await store.audit()
    if session.args.json:
        _print_json([{"id": q.id, "case": q.case_id, "actor": q.actor, "type": q.type,
                      "occurred_at": iso_z(q.occurred_at), "reason": q.reason} for q in found])
        return
    if found:
        print(render.quarantine_table(found, await session.zone(store)))
    print(f"{session.target.describe()}: {counted(len(found), 'quarantined event')}"
          + (" (kept in the log, never applied)" if found else ": every event of the log counts"))


def _team_init(args: argparse.Namespace) -> int:
    session = Session(args)
    lead = Person(name=args.lead, role=Role.LEAD, tz=check_zone(args.lead_tz) if args.lead_tz else env.system_zone())
    ready = asyncio.run(init_team(session.target, lead, args.login))
    print(f"{ready.database} is a team database: {ready.lead} leads it and connects as login {ready.login}")
    print(f"members connect with their own logins, in role {ready.member} (only its members may connect); add "
          "each with `casewatch people add` "
          "and `casewatch team grant NAME --login LOGIN`")
    return 0


async def _seed(session: Session, store: Store) -> None:
    args = session.args
    if args.cases < 0:
        raise InvalidInput("--cases must be zero or more")
    plan = demo_plan(args.cases, args.seed, args.now or datetime.now(UTC))
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done == total or done % 25 == 0):
            print(f"\rseeding {done}/{total} cases…", end="" if done < total else "\n", file=sys.__stderr__)

    ids = await write_demo(store, plan, session.actor, progress, append=args.append)
    print(f"seeded {counted(len(ids), 'case')} into {session.target.describe()}")


class _ProgressBar:
    """An import's progress on a terminal, once it has run for a second; nothing in a pipe."""

    WIDTH = 30

    def __init__(self) -> None:
        self.started, self.shown = time.monotonic(), False
        self.show = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.show or time.monotonic() - self.started < 1:
            return
        filled = self.WIDTH * done // max(total, 1)
        print(f"\rimporting [{'#' * filled}{'-' * (self.WIDTH - filled)}] {done}/{total} rows", end="",
              file=sys.__stderr__, flush=True)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            print(file=sys.__stderr__)


async def _import_csv(session: Session, store: Store) -> None:
    """Refused rows are listed and nothing is written, unless --skip-bad; the summary is one line."""
    args, bar = session.args, _ProgressBar()  # (a second counted from the start of the command)
    roster = await importer(store, session.actor)
    source = env.configured_source(session.config, args.source, roster)
    found = read_csv(Path(args.file), args.map, source.tz or await session.zone(store))
    report, good = await plan_import(store, source, found.tickets, roster)
    refused = sorted(found.refused + report.refused, key=lambda refusal: refusal.line)
    report.refused = refused
    whole_file_refused = bool(refused) and not args.skip_bad
    if args.dry_run:  # what a real run would write; with bad rows and no --skip-bad, that is nothing
        _print_report(report, args.json, dry_run=True, whole_file_refused=whole_file_refused)
    if whole_file_refused:
        outcome = "the whole file would be refused" if args.dry_run else "nothing was imported"
        raise InvalidInput(f"{args.file}: {counted(len(refused), 'bad row')}{report.refusals()}; {outcome} "
                           "(--skip-bad imports the good rows and lists the bad ones)")
    if args.dry_run:
        return
    try:
        done = await write_tickets(store, source, good, session.actor, roster, bar)
    finally:
        bar.close()
    done.refused = sorted(refused + done.refused, key=lambda refusal: refusal.line)
    _print_report(done, args.json, dry_run=False)


def _print_report(report: ImportReport, as_json: bool, *, dry_run: bool, whole_file_refused: bool = False) -> None:
    """The summary; a dry run of a file with bad rows and no --skip-bad says it counts what
    --skip-bad would do (the real run refuses the whole file)."""
    if as_json:
        _print_json(report.as_json(dry_run=dry_run) | ({"whole_file_refused": whole_file_refused} if dry_run else {}))
    else:
        print(("with --skip-bad: " if whole_file_refused else "") + report.line(dry_run=dry_run))


def _board(args: argparse.Namespace) -> int:
    from casewatch.themes import resolve_theme  # the TUI is only imported when a board opens
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.keymap import binding_ids, keymap_clashes

    config = env.load_config()
    theme = resolve_theme(getattr(args, "theme", None) or config.theme)
    unknown = sorted(set(config.keymap) - binding_ids())
    if unknown:
        close = get_close_matches(unknown[0], sorted(binding_ids()), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(binding_ids()))
        raise InvalidInput(f"config keymap: unknown binding id {unknown[0]!r} ({hint}known: {known})")
    clashes = keymap_clashes(config.keymap)
    if clashes:
        raise InvalidInput(env.keymap_problem(config, str(clashes[0]), clashes[0].ids))
    asked: datetime | date | None = getattr(args, "as_of", None)
    if isinstance(asked, date) and not isinstance(asked, datetime):  # a bare day: its midnight in your zone
        asked = day_start(asked, Session(args, config).creator().tz)
    replay_at = _not_future(asked, datetime.now(UTC))
    demo_dir = tempfile.TemporaryDirectory(prefix="casewatch-demo-") if getattr(args, "demo", False) else None
    with signals_end_the_command():
        try:
            if demo_dir is not None:
                args.db = str(Path(demo_dir.name) / "demo.db")
            session = Session(args, config)

            async def prepare() -> str:
                async with await session.open() as store:
                    if demo_dir is not None:
                        await write_demo(store, demo_plan(DEMO_CASES, DEMO_SEED, datetime.now(UTC)), session.actor)
                    return await session.zone(store)

            zone = asyncio.run(prepare())
            app = CasewatchApp(target=session.target, actor=session.actor, zone=zone, theme=theme, keymap=config.keymap,
                               remember_theme=partial(env.remember_setting, "theme"),
                               replay_at=replay_at, alerts=config.alerts,
                               write_back=env.write_back_rules(config), views=saved_views(config.views))
            app.run()
        finally:
            if demo_dir is not None:
                demo_dir.cleanup()
    return app.return_code or 0


def _wall(args: argparse.Namespace) -> int:
    """Serve the wall display to browsers until interrupted (see casewatch.wall)."""
    from casewatch.themes import resolve_theme
    from casewatch.wall.access import access_for
    from casewatch.wall.server import WallServer, WallSettings  # aiohttp only when a wall is served

    if not 1 <= args.max_viewers <= MOST_VIEWERS:
        raise InvalidInput(f"--max-viewers must be 1 to {MOST_VIEWERS}")
    if not 6 <= args.font_size <= 96:
        raise InvalidInput("--font-size must be 6 to 96 (pixels)")
    if args.public_url is not None and not args.public_url.startswith(("http://", "https://")):
        raise InvalidInput("--public-url must start with http:// or https://")
    access = access_for(args.host, Path(args.token_file) if args.token_file else None)
    session = Session(args)
    theme = resolve_theme(getattr(args, "theme", None) or session.config.theme)

    async def viewer() -> tuple[str, str]:
        async with await session.open(create=False) as store:
            person = (await store.roster()).get(session.actor)
            if person is None or person.role is not Role.VIEWER:
                what = "is not on the roster" if person is None else f"is on the roster as {person.role.value}"
                raise InvalidInput(f"{session.actor} {what}: the wall runs as a viewer of its own; a lead adds one "
                                   "(`casewatch people add wall --role viewer --tz ZONE`), "
                                   "then `casewatch wall --as wall`")
            return session.actor, await session.zone(store)

    actor, zone = asyncio.run(viewer())
    target = session.target
    settings = WallSettings(
        host=args.host, port=args.port, access=access, max_viewers=args.max_viewers, font_size=args.font_size,
        public_url=args.public_url.rstrip("/") if args.public_url else None, interactive=args.interactive_read_only,
        viewer={"db": str(target.path) if target.path else target.url.render_as_string(hide_password=False),
                "actor": actor, "zone": zone, "theme": theme, "interactive": args.interactive_read_only})

    def ready(address: str) -> None:
        public = f" for {settings.public_url}/" if settings.public_url else ""
        needs = " (browsers present the token once: ADDRESS/?token=…)" if access.required else ""
        print(f"casewatch wall: serving on {address}{public} as {actor}{needs}; Ctrl+C stops it", flush=True)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        asyncio.run(WallServer(settings).run(ready))
    except OSError as exc:
        raise Unavailable(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


# ----------------------------------------------------------------------- writes

def _keys(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


def _evidence_command(args: argparse.Namespace) -> c.SetEvidence:
    if args.key is None:
        raise InvalidInput("name the item to set (`casewatch case evidence ID KEY --state …`), "
                           "or list them with --json")
    if args.state is None:
        raise InvalidInput("--state is required: missing, partial, done or na")
    value = args.value if args.value_file is None else _read_text_file(args.value_file)
    return c.SetEvidence(case_id=args.case_id, key=args.key, state=EvidenceState.parse(args.state), value=value,
                         reason=args.reason, expect_version=args.expect_version)


async def _prepare_handoff(session: Session, store: Store) -> c.PrepareHandoff:
    """`handoff prepare`: each --case-note on the case its id or linked ticket names."""
    args = session.args
    notes = {await store.case_id_named(case_id): text for case_id, text in args.case_notes}
    return c.PrepareHandoff(to=args.to, note=args.note, case_notes=notes)


UPDATE_TEXTS = ("known", "investigating", "next_milestone")


async def _customer_update(session: Session, store: Store) -> c.CustomerUpdate:
    """`case update`: the texts given, the rest from `--template` filled in with the case's fields
    (its next update due in the sender's zone, as the message says it)."""
    args = session.args
    given = {name: getattr(args, name) for name in UPDATE_TEXTS}
    if args.template is not None:
        case = await store.get_case(await store.case_id_named(args.case_id))
        policy, roster = await store.policy(), await store.roster()
        sender = roster.get(session.actor)
        filled = fill(find_template(args.template, case, policy), case, policy, store.clock(),
                      sender.tz if sender else "UTC")
        given = {name: getattr(filled, name) if value is None else value for name, value in given.items()}
    missing = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is None]
    if missing:
        raise InvalidInput(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required (or --template NAME)")
    return c.CustomerUpdate(case_id=args.case_id, next_update_in=args.next_update_in,
                            expect_version=args.expect_version, **given)


async def _new_case_id(outcome: Outcome, session: Session, store: Store) -> str:
    return outcome.changed_case.id


async def _customer_message(outcome: Outcome, session: Session, store: Store) -> str:
    case = outcome.changed_case
    return f"{case.id} v{case.version}: customer update logged. Message:\n\n{outcome.event.payload['message']}"


async def _shift_started(outcome: Outcome, session: Session, store: Store) -> str:
    return f"{describe_event(outcome.event)} ({outcome.event.payload['tz']})"


async def _handoff_prepared(outcome: Outcome, session: Session, store: Store) -> str:
    return render.prepared_line(await store.handoff(outcome.event.payload["id"]))


async def _handoff_accepted(outcome: Outcome, session: Session, store: Store) -> str:
    handoff_id = session.args.handoff_id
    handoff = await store.handoff(handoff_id)
    diff = PacketDiff.model_validate(outcome.event.payload["changes_since"])
    lines = []
    if not diff.empty:
        lines.append(f"Changed since handoff {handoff_id} was prepared:")
        lines += handoff_export.diff_lines(diff, _viewer_zones(session, handoff.packet), store.clock())
    lines.append(f"handoff {handoff_id} accepted: {session.actor} leads the shift from now "
                 f"({outcome.event.payload['tz']})")
    return "\n".join(lines)


async def _login_granted(outcome: Outcome, session: Session, store: Store) -> str:
    login = outcome.event.payload["login"]
    line = describe_event(outcome.event)
    member = await store.member_role()
    if await store.grant_member(login):
        return f"{line}; it is in role {member}"
    return f"{line}\nan administrator must run (your login may not grant roles):\n  {grant_statement(login, member)}"


async def _policy_applied(outcome: Outcome, session: Session, store: Store) -> str:
    return f"policy v{(await store.policy()).version} applied from {session.args.file}"


MOST_VIEWERS = 64

WALL = Local("wall", "serve a read-only wall display of the floor to browsers (textual-serve)", _wall, (
    arg("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other needs --token-file)"),
    arg("--port", type=int, default=8080, help="port to listen on (default 8080; 0 picks a free one)"),
    arg("--token-file", default=None, metavar="FILE",
        help="a file only you may read holding the token browsers present once (?token=…)"),
    arg("--max-viewers", type=int, default=8, metavar="N", help="browser tabs served at once (default 8)"),
    arg("--font-size", type=int, default=20, metavar="PX", help="the browser's font size (default 20: "
        "160×45 cells on a 1920×1080 screen)"),
    arg("--public-url", default=None, metavar="URL",
        help="the address browsers use behind a reverse proxy, e.g. https://wall.example.com"),
    arg("--interactive-read-only", action="store_true",
        help="pass the browser's keys to the wall (navigation only: it never writes)"),
    arg("--theme", default=argparse.SUPPRESS, help="casewatch-dark (default), casewatch-light, casewatch-high-contrast",
        complete=("casewatch-dark", "casewatch-light", "casewatch-high-contrast")),
))

BOARD = Local("board", "open the live board (the default)", _board, (
    arg("--theme", default=argparse.SUPPRESS, help="casewatch-dark (default), casewatch-light, casewatch-high-contrast",
        complete=("casewatch-dark", "casewatch-light", "casewatch-high-contrast")),
    arg("--demo", action="store_true", default=argparse.SUPPRESS,
        help="open the board on a new temporary demo database"),
    arg("--as-of", type=parse_instant_or_day, default=argparse.SUPPRESS, metavar="WHEN",
        help="replay: the board as it stood at this instant (a bare date: its midnight in your zone), read-only"),
))

REASON = arg("--reason", required=True, help="why (shown in the timeline)")
PERSON = arg("name", help="a person on the roster")


async def run_sync(session: Session, store: Store) -> None:
    """`casewatch sync`: its module (and httpx, the tracker clients') loads only when it runs, not
    for every command."""
    from casewatch.cli.sync_command import run_sync as sync

    await sync(session, store)


async def run_deliver(session: Session, store: Store) -> None:
    """`casewatch deliver`, loaded as `sync` is."""
    from casewatch.cli.deliver_command import run_deliver as deliver

    await deliver(session, store)


SUBCOMMANDS: tuple[Subcommand, ...] = (
    BOARD,
    WALL,
    Read("seed-demo", "fill a database with a realistic demo floor", _seed, (
        arg("--cases", type=int, default=DEMO_CASES),
        arg("--seed", type=int, default=DEMO_SEED),
        arg("--now", type=parse_timestamp, default=None, metavar="TIMESTAMP", help="anchor the demo at this instant"),
        arg("--append", action="store_true", help="add to a database that already has cases"),
    )),
    Read("cases", "list open cases (or, with --status or --all, resolved ones too)", _cases, (
        arg("--json", action="store_true", group="format"),
        arg("--ids", action="store_true", group="format",
            help="only the ids, one per line (for xargs, or a bulk `casewatch case assign A,B,C`)"),
        arg("--status", type=Status.parse, default=None, group="which", complete=[s.value for s in Status],
            help="only cases in this status, e.g. resolved"),
        arg("--all", action="store_true", group="which", help="every case, resolved ones included"),
        arg("--as-of", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="replay the log up to this instant (a bare date: its midnight in your zone); clocks as then"),
        arg("--filter", type=parse_filter, default=CaseFilter(), metavar="QUERY",
            help="only matching cases: words found in the id, title, customer, owners, route, status or severity, "
                 "and fields: owner:NAME|none comms:NAME|none sev:1,2 customer:TEXT route:specialist:* "
                 "status:waiting src:NAME is:breached|unowned|mine|returned|unread (see the README)"),
        arg("--view", dest="saved_view", default=None, metavar="NAME",
            help="only the cases of a saved view: the config file's [views] NAME = \"filter\" (with --filter: both)"),
        arg("--mine", dest="view", action="store_const", const=View.MINE, default=None, group="view",
            help="only cases you own, handle the comms of, or are the named route authority of "
                 "(--as, $CASEWATCH_USER); the shift lead's include every case with no named route authority"),
        arg("--unowned", dest="view", action="store_const", const=View.UNOWNED, group="view",
            help="only cases that need owners: no internal owner or no comms owner (the board's o view)"),
        arg("--waiting", dest="view", action="store_const", const=View.WAITING, group="view",
            help="only cases waiting on the customer"),
        arg("--breached", dest="view", action="store_const", const=View.BREACHED, group="view",
            help="only cases with a breached clock (at --as-of, when given)"),
    )),
    Read("metrics", "escalation metrics of the cases escalated in [--since, --until)", _metrics, (
        arg("--since", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="the first escalation instant counted (a bare date: its midnight in your zone)"),
        arg("--until", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="escalations from this instant on are not counted (a bare date: its midnight in your zone)"),
        arg("--as-of", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="replay the log up to this instant (a bare date: its midnight in your zone; default: now)"),
        arg("--json", action="store_true", group="format"),
        arg("--csv", action="store_true", group="format", help="one row per breakdown, for spreadsheets"),
    )),
    Read("reviews", "post-case reviews, newest first, with avoidable escalations by cause", _reviews, (
        arg("--since", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="reviewed at or after (a bare date: its midnight in your zone)"),
        arg("--until", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="reviewed before (a bare date: its midnight in your zone)"),
        arg("--avoidable", action="store_true", help="only the escalations reviewed as avoidable"),
        arg("--json", action="store_true"),
    )),
    Write("case new", c.NewCase, "escalate a new case", (
        arg("--title", required=True),
        arg("--customer", required=True),
        arg("--severity", required=True, type=Severity.parse, complete=SEVERITIES),
        arg("--summary", default=""),
    ), show=_new_case_id),
    Write("case assign", c.Assign, "set the internal owner", (PERSON,), bulk=True),
    Write("case comms", c.AssignComms, "set the customer-comms owner", (PERSON,), bulk=True),
    Write("case authority", c.SetAuthority, "set who may change the route", (PERSON,)),
    Write("case involve", c.Involve, "add a participant", (
        PERSON,
        arg("--role", default=None, help="case role, e.g. incident-commander (default: roster role)"),
    )),
    Write("case severity", c.ChangeSeverity, "change severity", (
        arg("severity", type=Severity.parse, help="SEV1 to SEV4", complete=SEVERITIES), REASON,
    ), bulk=True),
    Write("case route", c.ChangeRoute, "change or confirm the route", (
        arg("route", type=parse_route, help="support, incident or specialist:TEAM", complete=ROUTES), REASON,
        arg("--override", default=None, metavar="REASON",
            help="leads: pass the evidence gate although required items are missing"),
    )),
    Write("case update", c.CustomerUpdate, "log a customer update", (
        arg("--known", default=None, help="required unless --template gives it"),
        arg("--investigating", default=None, help="required unless --template gives it"),
        arg("--next-milestone", default=None, help="required unless --template gives it"),
        arg("--next-update-in", default=None, metavar="DURATION", help="e.g. 45m or 1h30m (default: policy)"),
        arg("--template", default=None, metavar="NAME",
            help="start from the policy's [[templates]] entry of that name, filled in with the case's fields; "
                 "--known, --investigating and --next-milestone replace its texts"),
    ), show=_customer_message, resolve=_customer_update),
    Write("case review", c.Review, "log an internal review", (arg("--notes", required=True),)),
    Write("case status", c.ChangeStatus, "change status", (
        arg("status", type=Status.parse, help=", ".join(STATUSES), complete=STATUSES),
    ), bulk=True),
    Write("case reopen", c.Reopen, "reopen a resolved case"),
    Write("case close", c.CloseCase, "resolve and review in one step (a lead or the route authority)", (
        arg("--final-severity", required=True, type=Severity.parse, complete=SEVERITIES, metavar="SEVn",
            help="the severity it turned out to be"),
        arg("--avoidable", required=True, type=reviews.parse_yes_no, complete=("yes", "no"), metavar="yes|no",
            help="could support have resolved it without escalating?"),
        arg("--cause", default=None, metavar="CATEGORY", help="one of the policy's [review] causes"),
        arg("--lesson", default="", help="what would have prevented the escalation or made it faster"),
        arg("--notes", default=""),
    )),
    Write("case note", c.Note, "add a timeline note", (arg("text"),), bulk=True),
    Write("case ack", c.AcknowledgeAlert, "the shift lead acknowledges a clock's alert: every board's timeline "
          "says 'ack by NAME'", (
              arg("clock", choices=[kind.value for kind in ClockKind], help="the clock that alerted",
                  complete=[kind.value for kind in ClockKind]),
              arg("state", choices=["warning", "breached"], help="the state it alerted in",
                  complete=["warning", "breached"]),
          )),
    Write("case evidence", c.SetEvidence, "set an evidence item, or list them", (
        arg("key", nargs="?", help="the item (omit it with --json to list every item)"),
        arg("--state", default=None, help="missing, partial, done or na", complete=EVIDENCE_STATES),
        arg("--value", default=None, group="value", help="the item's text (multi-line allowed; 64 KiB at most)"),
        arg("--value-file", default=None, metavar="PATH", group="value",
            help="read the item's text from a file (- for stdin)"),
        arg("--reason", default=None, help="why (required for na)"),
        arg("--json", action="store_true", help="list the items as JSON"),
    ), build=_evidence_command, listing=_list_evidence),
    Read("case packet", "the escalation packet, to paste into a tracker", _packet, (
        CASE_ID, arg("--format", choices=("md", "json"), default="md"),
    )),
    Write("case return", c.ReturnCase, "send a case back for missing context", (
        arg("--missing", required=True, metavar="KEY[,KEY]", type=_keys,
            help="the items that lack context"),
        REASON,
    )),
    Read("case show", "fields, clocks and the full timeline", _show_case, (
        CASE_ID, arg("--json", action="store_true"),
    )),
    Write("people add", c.AddPerson, "add or change a person", (
        arg("name"),
        arg("--role", required=True, type=Role.parse, help="lead, agent, specialist or viewer",
            complete=[r.value for r in Role]),
        arg("--tz", dest="person_tz", required=True, metavar="ZONE", help="IANA zone, e.g. Asia/Kolkata"),
        arg("--team", default=None),
        arg("--display-name", default=None, metavar="TEXT", help='how people see the name, e.g. "Dana Scully"'),
    ), build=lambda args: c.AddPerson(name=args.name, role=args.role, tz=args.person_tz, team=args.team,
                                      display_name=args.display_name)),
    Write("people rename", c.RenamePerson, "give someone a new name (a handle); leads only", (
        arg("old", metavar="OLD"), arg("new", metavar="NEW", help="lower-case letters, digits, '.', '_' or '-'"),
    )),
    Read("people list", "list the roster", _list_people, (arg("--json", action="store_true"),)),
    Read("policy show", "print the active policy as TOML", _show_policy),
    Local("policy check", "validate a policy file", _check_policy, (arg("file"),)),
    Write("policy apply", c.ApplyPolicy, "validate and store a new version", (arg("file"),),
          show=_policy_applied,
          build=lambda args: c.ApplyPolicy(toml=_read_text_file(args.file), source_name=args.file)),
    Write("shift start", c.StartShift, "become the current shift lead", (
        arg("--zone", default=None, metavar="ZONE",
            help="the IANA zone you lead this shift in (default: yours on the roster)"),
    ), show=_shift_started, build=lambda args: c.StartShift(tz=args.zone)),
    Read("shift show", "who leads the shift, since when, and any handoff waiting", _show_shift),
    Write("handoff prepare", c.PrepareHandoff, "prepare the handoff packet for the next lead", (
        arg("--to", required=True, metavar="NAME", help="the incoming shift lead"),
        arg("--note", default="", help="a note for the incoming lead"),
        arg("--case-note", dest="case_notes", nargs=2, action="append", default=[], metavar=("ID", "TEXT"),
            help="a note beside one case (repeat for more)"),
    ), show=_handoff_prepared, backfill=False, resolve=_prepare_handoff),
    Write("handoff accept", c.AcceptHandoff, "take the shift over (the named incoming lead)", (
        arg("handoff_id", type=int, metavar="ID"),
    ), show=_handoff_accepted, backfill=False),
    Read("handoff show", "show a handoff; without ID, preview one now", _show_handoff, (
        arg("handoff_id", type=int, nargs="?", metavar="ID"),
        arg("--format", choices=("md", "json"), default="md"),
        arg("--to", default=None, metavar="NAME", help="preview: the incoming lead"),
        arg("--as-of", type=parse_instant_or_day, default=None, metavar="WHEN",
            help="replay the log up to this instant: the handoff as it stood, or the preview then"),
    )),
    Read("handoff list", "every handoff, newest first", _list_handoffs, (arg("--json", action="store_true"),)),
    Read("import csv", "import a tracker's CSV export: new tickets become cases, known ones change only where "
                       "the tracker changed since the last import", _import_csv, (
        arg("file", metavar="FILE", help="the CSV file (UTF-8; Zendesk, Salesforce or Jira headers, or --map)"),
        arg("--source", required=True, metavar="NAME", help="the [sources.NAME] table of the config file"),
        arg("--dry-run", action="store_true", help="write nothing; print what would happen"),
        arg("--map", action="append", default=[], type=parse_map, metavar="COLUMN=field",
            help="read this column as one of: id, title, customer, severity, status, owner, escalated_at, "
                 "created_at, updated_at, url (repeat for more)"),
        arg("--skip-bad", action="store_true", help="import the good rows and list the bad ones"),
        arg("--json", action="store_true", help="the counts and each refused line as JSON"),
    )),
    Read("sync", "sync the configured Zendesk and Jira sources into linked cases, once or --follow", run_sync, (
        arg("names", nargs="*", metavar="NAME", help="the [sources.NAME] tables to sync (default: every zendesk "
                                                     "and jira source)"),
        arg("--follow", action="store_true", help="keep syncing every --every until Ctrl+C or SIGTERM"),
        arg("--every", default="60s", metavar="DURATION", help="the interval under --follow (default 60s, at "
                                                                "least 1m)"),
        arg("--dry-run", action="store_true", help="read the tracker, write nothing; print what would happen"),
        arg("--json", action="store_true", help="each source's counts as JSON"),
    )),
    Read("deliver", "send the queued write-back (customer updates, notes, owners) to the tickets once, then exit",
         run_deliver, (
             arg("--retry", metavar="CASE", help="first make this case's failed and undelivered items due again"),
             arg("--check", action="store_true", help="first look on the tickets for each update and note marked "
                                                        "sent; re-queue those not there (exit 3)"),
             arg("--since", default="7d", metavar="DURATION", help="with --check: updates logged this far back "
                                                                    "(default 7d)"),
             arg("--json", action="store_true", help="each item sent or failed as JSON"),
         )),
    Read("db upgrade", "run schema migrations", _upgrade_db),
    Read("db verify", "replay the log in memory and report projection rows that differ (exit 1)", _verify_db),
    Read("db rebuild", "repair the projection rows that differ from a replay of the log", _rebuild_db),
    Read("db audit", "list the events the rules did not let count (quarantined: kept in the log, never applied)",
         _audit_db, (arg("--json", action="store_true"),)),
    Local("team init", "PostgreSQL: make a database a team one (run as a role that may create roles)", _team_init, (
        arg("--lead", required=True, type=check_free_handle, metavar="NAME", help="the first lead"),
        arg("--login", required=True, type=check_login, metavar="PGROLE", help="the first lead's existing login"),
        arg("--tz", dest="lead_tz", default=None, metavar="ZONE", help="the first lead's IANA zone (default: yours)"),
    )),
    Write("team grant", c.GrantLogin, "map a database login to a person on the roster; leads only", (
        arg("name", help="a person on the roster"),
        arg("--login", required=True, metavar="PGROLE", help="their PostgreSQL login"),
    ), show=_login_granted, backfill=False),
)

GROUPS = {
    "case": "act on one case",
    "people": "the roster",
    "policy": "the severity policy",
    "shift": "shifts",
    "handoff": "hand the shift over across time zones",
    "db": "database maintenance",
    "import": "bring cases in from a tracker",
    "team": "team mode on PostgreSQL: logins mapped to people, a log the server guards",
}
