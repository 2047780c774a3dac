"""The `casewatch` command: every action for scripts, bots and tests, and the board.

Exit codes: 0 success, 2 invalid input / not found / denied, 3 conflict. User errors print one
line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from casewatch import paths
from casewatch.cli import environment as env
from casewatch.cli import render
from casewatch.core import commands as c
from casewatch.core import handoff_export
from casewatch.core.clocks import plan_clocks
from casewatch.core.demo import demo_plan
from casewatch.core.errors import CasewatchError, FileInvalid, InvalidInput, NotFound
from casewatch.core.evidence import case_checklist
from casewatch.core.handoff import HandoffStatus, Packet, PacketDiff
from casewatch.core.models import (
    EvidenceState,
    Person,
    Role,
    Severity,
    Status,
    check_zone,
    iso_z,
    parse_route,
    parse_timestamp,
)
from casewatch.core.packet import case_packet, evidence_json, packet_json, packet_markdown
from casewatch.core.policy import Policy, parse_policy
from casewatch.core.projection import policy_source_as_of, replay_cases
from casewatch.core.views import (
    authority_label,
    board_order,
    case_flags,
    case_matches,
    case_summary,
    describe_event,
    event_json,
)
from casewatch.storage.migrate import head_revision
from casewatch.storage.seed import write_demo
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target

DEMO_CASES = 60
DEMO_SEED = 42


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"casewatch: {message} (see `{self.prog} --help`)\n")


def _common(viewer_zone: bool = True) -> _Parser:
    """Options every subcommand accepts, before or after its name."""
    common = _Parser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS, help="database file or URL (default: $CASEWATCH_DB, "
                        "the config file, then the user data dir)")
    common.add_argument("--as", dest="actor", default=argparse.SUPPRESS, metavar="NAME",
                        help="act as this person (default: $CASEWATCH_USER, the config file, the OS user)")
    if viewer_zone:
        common.add_argument("--tz", default=argparse.SUPPRESS, help="show times in this IANA zone")
    return common


def _write(parser: argparse.ArgumentParser, case: bool = True) -> argparse.ArgumentParser:
    parser.add_argument("--at", type=_timestamp, default=None, metavar="TIMESTAMP",
                        help="when it happened (ISO-8601 with zone); default now")
    if case:
        parser.add_argument("--expect-version", type=int, default=None, metavar="N",
                            help="fail with exit 3 if the case is no longer at version N")
    return parser


def _timestamp(text: str) -> datetime:
    try:
        return parse_timestamp(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="casewatch", parents=[common], description=__doc__.split("\n")[0])
    parser.add_argument("--demo", action="store_true", help="open the board on a new temporary demo database")
    parser.add_argument("--theme", default=None, help="casewatch-dark (default), casewatch-light, "
                        "casewatch-high-contrast")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    board = sub.add_parser("board", parents=[common], help="open the live board (the default)")
    board.add_argument("--theme", default=None)
    board.add_argument("--demo", action="store_true")

    seed = sub.add_parser("seed-demo", parents=[common], help="fill a database with a realistic demo floor")
    seed.add_argument("--cases", type=int, default=DEMO_CASES)
    seed.add_argument("--seed", type=int, default=DEMO_SEED)
    seed.add_argument("--now", type=_timestamp, default=None, help="anchor the demo at this instant")

    cases = sub.add_parser("cases", parents=[common], help="list open cases")
    cases.add_argument("--json", action="store_true")
    cases.add_argument("--as-of", type=_timestamp, default=None, metavar="TIMESTAMP",
                       help="replay the log up to this instant and evaluate the clocks there")
    cases.add_argument("--filter", default="", metavar="WORDS",
                       help="only cases whose id, title, customer, owners, route or status contain every word")

    case = sub.add_parser("case", parents=[common], help="act on one case").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    new = _write(case.add_parser("new", parents=[common], help="escalate a new case"), case=False)
    new.add_argument("--title", required=True)
    new.add_argument("--customer", required=True)
    new.add_argument("--severity", required=True)
    new.add_argument("--summary", default="")
    for name, help_text in (("assign", "set the internal owner"), ("comms", "set the customer-comms owner"),
                            ("authority", "set who may change the route")):
        p = _write(case.add_parser(name, parents=[common], help=help_text))
        p.add_argument("id")
        p.add_argument("name")
    involve = _write(case.add_parser("involve", parents=[common], help="add a participant"))
    involve.add_argument("id")
    involve.add_argument("name")
    involve.add_argument("--role", default=None, help="case role, e.g. incident-commander (default: roster role)")
    severity = _write(case.add_parser("severity", parents=[common], help="change severity"))
    severity.add_argument("id")
    severity.add_argument("severity")
    severity.add_argument("--reason", required=True)
    route = _write(case.add_parser("route", parents=[common], help="change or confirm the route"))
    route.add_argument("id")
    route.add_argument("route", help="support, incident or specialist:TEAM")
    route.add_argument("--reason", required=True)
    route.add_argument("--override", default=None, metavar="REASON",
                       help="leads: pass the evidence gate although required items are missing")
    update = _write(case.add_parser("update", parents=[common], help="log a customer update"))
    update.add_argument("id")
    update.add_argument("--known", required=True)
    update.add_argument("--investigating", required=True)
    update.add_argument("--next-milestone", required=True)
    update.add_argument("--next-update-in", default=None, metavar="DURATION", help="e.g. 45m (default: policy)")
    review = _write(case.add_parser("review", parents=[common], help="log an internal review"))
    review.add_argument("id")
    review.add_argument("--notes", required=True)
    status = _write(case.add_parser("status", parents=[common], help="change status"))
    status.add_argument("id")
    status.add_argument("status", help="investigating, waiting_on_customer, mitigated or resolved")
    reopen = _write(case.add_parser("reopen", parents=[common], help="reopen a resolved case"))
    reopen.add_argument("id")
    note = _write(case.add_parser("note", parents=[common], help="add a timeline note"))
    note.add_argument("id")
    note.add_argument("text")
    evidence = _write(case.add_parser("evidence", parents=[common], help="set an evidence item, or list them"))
    evidence.add_argument("id")
    evidence.add_argument("key", nargs="?", help="the item (omit it with --json to list every item)")
    evidence.add_argument("--state", default=None, help="missing, partial, done or na")
    text = evidence.add_mutually_exclusive_group()
    text.add_argument("--value", default=None, help="the item's text (multi-line allowed; 64 KiB at most)")
    text.add_argument("--value-file", default=None, metavar="PATH",
                      help="read the item's text from a file (- for stdin)")
    evidence.add_argument("--reason", default=None, help="why (required for na)")
    evidence.add_argument("--json", action="store_true", help="list the items as JSON")
    packet = case.add_parser("packet", parents=[common], help="the escalation packet, to paste into a tracker")
    packet.add_argument("id")
    packet.add_argument("--format", choices=("md", "json"), default="md")
    return_ = _write(case.add_parser("return", parents=[common], help="send a case back for missing context"))
    return_.add_argument("id")
    return_.add_argument("--missing", required=True, metavar="KEY[,KEY]", help="the items that lack context")
    return_.add_argument("--reason", required=True)
    show = case.add_parser("show", parents=[common], help="fields, clocks and the full timeline")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    people = sub.add_parser("people", parents=[common], help="the roster").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    add = _write(people.add_parser("add", parents=[_common(viewer_zone=False)], help="add or change a person"),
                 case=False)
    add.add_argument("name")
    add.add_argument("--role", required=True, help="lead, agent, specialist or viewer")
    add.add_argument("--tz", dest="person_tz", required=True, metavar="ZONE", help="IANA zone, e.g. Asia/Kolkata")
    add.add_argument("--team", default=None)
    people_list = people.add_parser("list", parents=[common])
    people_list.add_argument("--json", action="store_true")

    policy = sub.add_parser("policy", parents=[common], help="the severity policy").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    policy.add_parser("show", parents=[common], help="print the active policy as TOML")
    check = policy.add_parser("check", parents=[common], help="validate a policy file")
    check.add_argument("file")
    apply_ = _write(policy.add_parser("apply", parents=[common], help="validate and store a new version"),
                    case=False)
    apply_.add_argument("file")

    shift = sub.add_parser("shift", parents=[common], help="shifts").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    start = _write(shift.add_parser("start", parents=[common], help="become the current shift lead"), case=False)
    start.add_argument("--zone", default=None, metavar="ZONE",
                       help="the IANA zone you lead this shift in (default: yours on the roster)")
    shift.add_parser("show", parents=[common], help="who leads the shift, since when, and any handoff waiting")

    handoff = sub.add_parser("handoff", parents=[common], help="hand the shift over across time zones").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    prepare = handoff.add_parser("prepare", parents=[common], help="prepare the handoff packet for the next lead")
    prepare.add_argument("--to", required=True, metavar="NAME", help="the incoming shift lead")
    prepare.add_argument("--note", default="", help="a note for the incoming lead")
    prepare.add_argument("--case-note", nargs=2, action="append", default=[], metavar=("ID", "TEXT"),
                         help="a note beside one case (repeat for more)")
    accept = handoff.add_parser("accept", parents=[common], help="take the shift over (the named incoming lead)")
    accept.add_argument("id", type=int)
    handoff_show = handoff.add_parser("show", parents=[common], help="show a handoff; without ID, preview one now")
    handoff_show.add_argument("id", type=int, nargs="?")
    handoff_show.add_argument("--format", choices=("md", "json"), default="md")
    handoff_show.add_argument("--to", default=None, metavar="NAME", help="preview: the incoming lead")
    handoff_list = handoff.add_parser("list", parents=[common], help="every handoff, newest first")
    handoff_list.add_argument("--json", action="store_true")

    db = sub.add_parser("db", parents=[common], help="database maintenance").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    db.add_parser("upgrade", parents=[common], help="run schema migrations")
    return parser


class Session:
    """Resolved options for one invocation: where the database is, who acts, which zone to show."""

    def __init__(self, args: argparse.Namespace, config: env.Config | None = None):
        self.args = args
        self.config = config or env.load_config()
        self.actor = env.actor_name(getattr(args, "actor", None), self.config)
        flag_db = getattr(args, "db", None)
        location = env.database_location(flag_db, self.config)
        if not flag_db and location == str(paths.default_db_path()):
            paths.data_dir().mkdir(parents=True, exist_ok=True)
        self.target = resolve_target(location)
        self._tz = getattr(args, "tz", None) or self.config.tz

    def creator(self) -> Person:
        return Person(name=self.actor, role=Role.LEAD, tz=self._tz or env.system_zone())

    async def open(self) -> Store:
        return await Store.open(self.target, creator=self.creator())

    async def zone(self, store: Store) -> str:
        if self._tz:
            return self._tz
        person = (await store.roster()).get(self.actor)
        return person.tz if person else env.system_zone()


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


async def _cases(session: Session, store: Store) -> None:
    args = session.args
    if args.as_of is not None:
        history = await store.all_events()
        upto = [e for e in history if e.occurred_at <= args.as_of]
        source = policy_source_as_of(history, args.as_of)
        if source is None:
            raise InvalidInput(f"{session.target.describe()} has no policy; run `casewatch db upgrade`")
        policy = parse_policy(source, "policy in force")
        open_cases = [case for case in replay_cases(upto).values() if case.is_open]
        now = args.as_of
    else:
        open_cases, policy, now = await store.open_cases(), await store.policy(), store.clock()
    rows = board_order([case for case in open_cases if case_matches(case, args.filter)], policy)
    if args.json:
        _print_json([case_summary(case, clocks, policy, now) for case, clocks in rows])
    elif rows:
        print(render.case_table(rows, policy, now))
    else:
        print("no open cases")


def _case_command(args: argparse.Namespace):
    """Build the core command for `casewatch case <action>` from parsed arguments."""
    a = args.action
    if a == "new":
        return c.NewCase(title=args.title, customer=args.customer, severity=Severity.parse(args.severity),
                         summary=args.summary)
    base = {"case_id": args.id, "expect_version": args.expect_version}
    builders = {
        "assign": lambda: c.Assign(name=args.name, **base),
        "comms": lambda: c.AssignComms(name=args.name, **base),
        "authority": lambda: c.SetAuthority(name=args.name, **base),
        "involve": lambda: c.Involve(name=args.name, role=args.role, **base),
        "severity": lambda: c.ChangeSeverity(severity=Severity.parse(args.severity), reason=args.reason, **base),
        "route": lambda: c.ChangeRoute(route=parse_route(args.route), reason=args.reason, override=args.override,
                                       **base),
        "update": lambda: c.CustomerUpdate(known=args.known, investigating=args.investigating,
                                           next_milestone=args.next_milestone,
                                           next_update_in=args.next_update_in, **base),
        "review": lambda: c.Review(notes=args.notes, **base),
        "status": lambda: c.ChangeStatus(status=Status.parse(args.status), **base),
        "reopen": lambda: c.Reopen(**base),
        "note": lambda: c.Note(text=args.text, **base),
        "evidence": lambda: _evidence_command(args, base),
        "return": lambda: c.ReturnCase(missing=tuple(args.missing.split(",")), reason=args.reason, **base),
    }
    return builders[a]()


def _evidence_command(args: argparse.Namespace, base: dict) -> c.SetEvidence:
    if args.key is None:
        raise InvalidInput("name the item to set (`casewatch case evidence ID KEY --state …`), "
                           "or list them with --json")
    if args.state is None:
        raise InvalidInput("--state is required: missing, partial, done or na")
    value = args.value if args.value_file is None else _read_text_file(args.value_file)
    return c.SetEvidence(key=args.key, state=EvidenceState.parse(args.state), value=value, reason=args.reason, **base)


async def _evidence_list(session: Session, store: Store) -> None:
    case = await store.get_case(session.args.id)
    entries = case_checklist(case, (await store.policy()).evidence, every_route=True)
    _print_json([evidence_json(entry) for entry in entries])


async def _packet(session: Session, store: Store) -> None:
    args = session.args
    case = await store.get_case(args.id)
    packet = case_packet(case, await store.policy(), await store.case_events(case.id), await session.zone(store),
                         store.clock())
    if args.format == "json":
        _print_json(packet_json(packet))
    else:
        print(packet_markdown(packet), end="")


async def _case(session: Session, store: Store) -> None:
    args = session.args
    if args.action == "evidence" and args.json:
        if args.key is not None or args.state is not None:
            raise InvalidInput("--json lists every item; leave out KEY and --state")
        await _evidence_list(session, store)
        return
    if args.action == "packet":
        await _packet(session, store)
        return
    if args.action == "show":
        case = await store.get_case(args.id)
        policy = await store.policy()
        clocks = plan_clocks(case, policy)
        events = await store.case_events(case.id)
        now = store.clock()
        shift = await store.current_shift()
        if args.json:
            summary = case_summary(case, clocks, policy, now)
            summary |= {
                "summary": case.summary, "route_authority": case.route_authority,
                "route_authority_shown": authority_label(case, shift.lead if shift else None),
                "participants": [asdict(p) for p in case.participants],
                "owner_named_at": iso_z(case.owner_named_at),
                "flags": case_flags(case, policy), "timeline": [event_json(e) for e in events],
            }
            _print_json(summary)
        else:
            print(render.case_details(case, clocks, policy, events, now, await session.zone(store),
                                      authority_label(case, shift.lead if shift else None)))
        return
    outcome = await store.execute(_case_command(args), session.actor, at=args.at)
    changed = outcome.changed_case
    if args.action == "new":
        print(changed.id)
    elif args.action == "update":
        print(f"{changed.id} v{changed.version}: customer update logged. Message:\n")
        print(outcome.event.payload["message"])
    else:
        print(f"{changed.id} v{changed.version}: {describe_event(outcome.event)}")


async def _shift(session: Session, store: Store) -> None:
    args = session.args
    if args.action == "start":
        outcome = await store.execute(c.StartShift(tz=args.zone), session.actor, at=args.at)
        print(describe_event(outcome.event) + f" ({outcome.event.payload['tz']})")
        return
    view = await store.lead_view()
    print(render.shift_line(view.shift, view.pending, store.clock(), await session.zone(store)))


def _viewer_zones(session: Session, packet: Packet) -> tuple[str, str]:
    """The incoming lead's zone and the outgoing lead's; --tz puts the viewer's in place of the first."""
    first = check_zone(session.args.tz) if getattr(session.args, "tz", None) else packet.incoming.tz
    return first, packet.outgoing.tz


async def _handoff(session: Session, store: Store) -> None:
    args, now = session.args, store.clock()
    if args.action == "prepare":
        notes = {case_id: text for case_id, text in args.case_note}
        outcome = await store.execute(c.PrepareHandoff(to=args.to, note=args.note, case_notes=notes), session.actor)
        handoff = await store.handoff(outcome.event.payload["id"])
        print(render.prepared_line(handoff))
    elif args.action == "accept":
        outcome = await store.execute(c.AcceptHandoff(handoff_id=args.id), session.actor)
        handoff = await store.handoff(args.id)
        diff = PacketDiff.model_validate(outcome.event.payload["changes_since"])
        if not diff.empty:
            print(f"Changed since handoff {args.id} was prepared:")
            print("\n".join(handoff_export.diff_lines(diff, _viewer_zones(session, handoff.packet), now)))
        print(f"handoff {args.id} accepted: {session.actor} leads the shift from now ({outcome.event.payload['tz']})")
    elif args.action == "list":
        handoffs = await store.handoffs()
        if args.json:
            _print_json([handoff_export.packet_json(h.packet, now, handoff=h) | {"cases": len(h.packet.cases)}
                         for h in handoffs])
        else:
            print(render.handoff_table(handoffs, now, await session.zone(store)) if handoffs else "no handoffs yet")
    else:
        found = await store.handoff(args.id) if args.id is not None else None
        if found is None:
            packet = await store.handoff_preview(session.actor, args.to)
            diff = None
        else:
            packet = found.packet
            diff = await store.handoff_changes(found) if found.status is HandoffStatus.PENDING else None
        zones = _viewer_zones(session, packet)
        if args.format == "json":
            _print_json(handoff_export.packet_json(packet, now, handoff=found, diff=diff, zones=zones))
        else:
            print(handoff_export.packet_markdown(packet, now, handoff=found, diff=diff, zones=zones), end="")


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


def _check_policy(session: Session) -> None:
    """`policy check` needs no database: it only reads the file."""
    parse_policy(_read_text_file(session.args.file), session.args.file)
    print(f"{session.args.file}: ok")


async def _policy(session: Session, store: Store) -> None:
    args = session.args
    if args.action == "show":
        print((await store.policy()).to_toml(), end="")
    else:
        text = _read_text_file(args.file)
        await store.execute(c.ApplyPolicy(toml=text, source_name=args.file), session.actor, at=args.at)
        policy: Policy = await store.policy()
        print(f"policy v{policy.version} applied from {args.file}")


async def _people(session: Session, store: Store) -> None:
    args = session.args
    if args.action == "add":
        command = c.AddPerson(name=args.name, role=Role.parse(args.role), tz=args.person_tz, team=args.team)
        outcome = await store.execute(command, session.actor, at=args.at)
        print(describe_event(outcome.event))
        return
    roster = await store.roster()
    if args.json:
        _print_json([p.model_dump(mode="json") for p in roster.values()])
    else:
        print(render.people_table(roster))


async def _seed(session: Session, store: Store) -> None:
    args = session.args
    if args.cases < 0:
        raise InvalidInput("--cases must be zero or more")
    plan = demo_plan(args.cases, args.seed, args.now or datetime.now(UTC))
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show and (done == total or done % 25 == 0):
            print(f"\rseeding {done}/{total} cases…", end="" if done < total else "\n", file=sys.stderr)

    ids = await write_demo(store, plan, session.actor, progress)
    print(f"seeded {len(ids)} cases into {session.target.describe()}")


async def _run(session: Session) -> None:
    args = session.args
    if args.command == "policy" and args.action == "check":
        _check_policy(session)
        return
    async with await session.open() as store:
        if args.command == "db":
            done = "migrated to" if store.migrated else "already at"
            print(f"{session.target.describe()}: schema {done} {head_revision()}")
        else:
            handler = {"cases": _cases, "case": _case, "policy": _policy, "people": _people, "seed-demo": _seed,
                       "shift": _shift, "handoff": _handoff}
            await handler[args.command](session, store)


def _board(args: argparse.Namespace) -> int:
    from casewatch.themes import resolve_theme  # the TUI is only imported when a board opens
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.keymap import binding_ids

    config = env.load_config()
    theme = resolve_theme(args.theme or config.theme)
    unknown = sorted(set(config.keymap) - binding_ids())
    if unknown:
        known = ", ".join(sorted(binding_ids()))
        raise InvalidInput(f"config keymap: unknown binding id {unknown[0]!r} (known: {known})")
    demo_dir = tempfile.TemporaryDirectory(prefix="casewatch-demo-") if args.demo else None
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
        app = CasewatchApp(target=session.target, actor=session.actor, zone=zone, theme=theme, keymap=config.keymap)
        app.run()
    finally:
        if demo_dir is not None:
            demo_dir.cleanup()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (already printed in one line) and --help
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.command in (None, "board"):
            return _board(args)
        asyncio.run(_run(Session(args)))
        return 0
    except FileInvalid as exc:
        for problem in exc.problems:
            print(f"casewatch: {problem}", file=sys.stderr)
        return exc.exit_code
    except CasewatchError as exc:
        print(f"casewatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        print(f"casewatch: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
