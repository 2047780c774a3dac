"""What a `casewatch` subcommand is, and the argparse parser built from a table of them.

A subcommand is one entry: its words (`"case assign"`), its arguments, and what it does. `Write`
records one core command through the Store and prints its outcome; `Read` runs with the store
open; `Local` needs no store. The options every subcommand shares (`--db`, `--as`, `--tz`) are
added here, once, to every level, so they go before or after the subcommand's name.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from casewatch.cli.session import Session
from casewatch.core.commands import Command, OnCase
from casewatch.core.errors import CasewatchError, InvalidInput
from casewatch.core.models import day_start, parse_timestamp
from casewatch.core.text import visible
from casewatch.core.views import describe_event
from casewatch.storage.store import Outcome, Store


@dataclass(frozen=True)
class Arg:
    """One argparse argument; `complete` lists the words shell completion offers for it; arguments
    of one subcommand with the same `group` exclude each other."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]
    complete: tuple[str, ...] = ()
    group: str | None = None

    @property
    def dest(self) -> str:
        if "dest" in self.options:
            return str(self.options["dest"])
        return self.flags[-1].lstrip("-").replace("-", "_")


def arg(*flags: str, complete: Iterable[str] = (), group: str | None = None, **options: Any) -> Arg:
    """An argument as `add_argument` takes it. A `type` that raises a casewatch error (a core
    parser such as `Severity.parse`) is reported by argparse like any bad value: one line, exit 2."""
    if "type" in options:
        options["type"] = _argparse_type(options["type"])
    return Arg(flags, options, tuple(complete), group)


def _argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except CasewatchError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


COMMON = (
    arg("--db", default=argparse.SUPPRESS,
        help="database file or URL (default: $CASEWATCH_DB, the config file, then the user data dir)"),
    arg("--as", dest="actor", default=argparse.SUPPRESS, metavar="NAME",
        help="act as this person (default: $CASEWATCH_USER, the config file, the OS user)"),
    arg("--tz", default=argparse.SUPPRESS, help="show times in this IANA zone"),
)
"""Options every level of the command accepts; an entry's own option of the same name wins."""

AT = arg("--at", type=parse_timestamp, default=None, metavar="TIMESTAMP",
         help="when it happened (ISO-8601 with zone); default now")
CASE_ID = arg("case_id", metavar="ID", help="the case, e.g. CW-1001")
CASE_IDS = arg("case_id", metavar="ID[,ID…]",
               help="the case, e.g. CW-1001, or several: CW-1001,CW-1002 (each its own event, in one transaction)")
EXPECT_VERSION = arg("--expect-version", type=int, default=None, metavar="N",
                     help="fail with exit 3 if the case is no longer at version N")

Show = Callable[[Outcome, Session, Store], Awaitable[str]]


def _fields_by_name(command: type[Command]) -> Callable[[argparse.Namespace], Command]:
    """Build `command` from the parsed arguments whose names are its fields."""
    def build(args: argparse.Namespace) -> Command:
        values = {name: getattr(args, name) for name in command.model_fields if hasattr(args, name)}
        return command(**values)
    return build


async def described(outcome: Outcome, session: Session, store: Store) -> str:
    """The default output of a write: its timeline line, after the case id and new version."""
    case = outcome.case
    return f"{case.id} v{case.version}: {describe_event(outcome.event)}" if case else describe_event(outcome.event)


@dataclass(frozen=True)
class Write:
    """Records one core command as the acting person. Commands on a case take the case id first
    and `--expect-version`; writes take `--at` unless they cannot be backfilled (`backfill`). Unless
    `build` says otherwise, the command's fields are the arguments of the same names."""

    words: str
    command: type[Command]
    help: str
    args: tuple[Arg, ...] = ()
    show: Show = described
    build: Callable[[argparse.Namespace], Command] | None = None
    listing: Callable[[Session, Store], Awaitable[None]] | None = None  # with --json: list instead of writing
    backfill: bool = True
    bulk: bool = False  # the case id may be a comma list: the same command on each case (see `_record_each`)
    resolve: Callable[[Session, Store], Awaitable[Command]] | None = None  # builds it with the store open

    @property
    def all_args(self) -> tuple[Arg, ...]:
        at = (AT,) if self.backfill else ()
        if issubclass(self.command, OnCase):
            return (CASE_IDS if self.bulk else CASE_ID, *self.args, *at, EXPECT_VERSION)
        return (*self.args, *at)

    def main(self, args: argparse.Namespace) -> int:
        if self.listing is not None and args.json:
            asyncio.run(_with_store(Session(args), self.listing))
            return 0
        if self.resolve is not None:  # the command depends on what is stored (a template of the policy)
            asyncio.run(self._record(Session(args), None))
            return 0
        command = (self.build or _fields_by_name(self.command))(args)  # bad input opens no database
        if isinstance(command, OnCase) and "," in command.case_id:
            return asyncio.run(self._record_each(Session(args), self._each_case(command, args)))
        asyncio.run(self._record(Session(args), command))
        return 0

    def _each_case(self, command: OnCase, args: argparse.Namespace) -> list[OnCase]:
        """`CW-1001,CW-1002`: the command once per case, in the order given (each id once)."""
        if not self.bulk:
            raise InvalidInput(f"`casewatch {self.words}` acts on one case at a time; give one id")
        if getattr(args, "at", None) is not None or args.expect_version is not None:
            raise InvalidInput("--at and --expect-version are for one case; leave them out with a list of ids")
        ids = [case_id.strip() for case_id in command.case_id.split(",")]
        if not all(ids):
            raise InvalidInput(f"{command.case_id!r}: an empty id in the list (ids are separated by single commas)")
        return [command.model_copy(update={"case_id": case_id}) for case_id in dict.fromkeys(ids)]

    async def _record_each(self, session: Session, commands: list[OnCase]) -> int:
        """Each case its own event, in one transaction. A case that refuses is one line on stderr
        with its reason, the others are written; the exit code is the worst refusal's (0: all done)."""
        worst = 0
        async with await session.open() as store:
            named: list[OnCase | CasewatchError] = []
            for command in commands:
                try:
                    named.append(await _on_named_case(store, command))
                except CasewatchError as refusal:  # no case or several by that name: its own line below
                    named.append(refusal)
            done = iter(await store.execute_each([n for n in named if not isinstance(n, CasewatchError)],
                                                 session.actor))
            for command, resolved in zip(commands, named, strict=True):
                result = resolved if isinstance(resolved, CasewatchError) else next(done)
                if isinstance(result, CasewatchError):
                    print(f"casewatch: {command.case_id}: not done: {visible(str(result))}", file=sys.stderr)
                    worst = max(worst, result.exit_code)
                else:
                    print(await self.show(result, session, store))
        return worst

    async def _record(self, session: Session, command: Command | None) -> None:
        async with await session.open() as store:
            if command is None and self.resolve is not None:
                command = await self.resolve(session, store)
            if command is None:
                raise InvalidInput(f"`casewatch {self.words}` could not be built")
            if isinstance(command, OnCase):
                command = await _on_named_case(store, command)
            outcome = await store.execute(command, session.actor, at=getattr(session.args, "at", None))
            print(await self.show(outcome, session, store))


async def _on_named_case(store: Store, command: OnCase) -> OnCase:
    """The command on the case its id names, given as a case id or a linked ticket's key."""
    return command.model_copy(update={"case_id": await store.case_id_named(command.case_id)})


@dataclass(frozen=True)
class Read:
    """Runs with the store open: listings, seeding, migrations."""

    words: str
    help: str
    run: Callable[[Session, Store], Awaitable[None]]
    args: tuple[Arg, ...] = ()

    @property
    def all_args(self) -> tuple[Arg, ...]:
        return self.args

    def main(self, args: argparse.Namespace) -> int:
        asyncio.run(_with_store(Session(args), self.run))
        return 0


async def _with_store(session: Session, run: Callable[[Session, Store], Awaitable[None]]) -> None:
    async with await session.open() as store:
        as_of = getattr(session.args, "as_of", None)
        if type(as_of) is date:  # `--as-of 2026-12-06` as `--since` takes it: that day's midnight in your zone
            session.args.as_of = day_start(as_of, await session.zone(store))
        await run(session, store)


@dataclass(frozen=True)
class Local:
    """Needs no store of its own (it may open one itself, like the board); returns the exit code."""

    words: str
    help: str
    run: Callable[[argparse.Namespace], int]
    args: tuple[Arg, ...] = ()

    @property
    def all_args(self) -> tuple[Arg, ...]:
        return self.args

    def main(self, args: argparse.Namespace) -> int:
        return self.run(args)


Subcommand = Write | Read | Local


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"casewatch: {message} (see `{self.prog} --help`)\n")


def _add(parser: argparse.ArgumentParser, args: Iterable[Arg]) -> None:
    groups: dict[str, Any] = {}
    for spec in args:
        where = parser
        if spec.group is not None:
            if spec.group not in groups:  # (setdefault would make an empty group per argument: --help fails on it)
                groups[spec.group] = parser.add_mutually_exclusive_group()
            where = groups[spec.group]
        action = where.add_argument(*spec.flags, **spec.options)
        if spec.complete:
            action.completer = _offer(spec.complete)  # type: ignore[attr-defined]  # argcomplete's hook


def _offer(words: tuple[str, ...]) -> Callable[..., tuple[str, ...]]:
    """An argcomplete completer offering `words` (it keeps those that start with what was typed)."""
    return lambda **_context: words


def _add_with_common(parser: argparse.ArgumentParser, args: Sequence[Arg]) -> None:
    own = {flag for spec in args for flag in spec.flags}
    _add(parser, [spec for spec in COMMON if not own.intersection(spec.flags)])
    _add(parser, args)


EXIT_CODES = """exit codes:
  0  done (a write that committed exits 0 whatever happens to its output)
  1  db verify: projection rows differ from the log (`casewatch db rebuild` repairs them)
  2  invalid input, not found, or not allowed (a damaged database too); nothing was written
  3  conflict: the case changed since you read it (--expect-version); nothing was written
  4  unavailable, worth retrying: database busy, lock timeout, server gone, disk full"""


class _Version(argparse.Action):
    """`--version`: the version the installed package's metadata records, looked up only when asked
    (reading the metadata would cost every other command its search of sys.path)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> NoReturn:
        from importlib import metadata

        try:
            version = metadata.version("casewatch")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            version = "unknown (not installed)"
        print(f"casewatch {version}")
        parser.exit(0)


def build_parser(description: str, default: Subcommand, table: Sequence[Subcommand],
                 groups: Mapping[str, str]) -> argparse.ArgumentParser:
    """The parser for `table`. With no subcommand, `default` runs (its options are accepted at the
    top level). `groups` gives the help of the words that only group subcommands (`case`, `db`)."""
    top = _Parser(prog="casewatch", description=description, epilog=EXIT_CODES,
                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action=_Version, help="print the installed version and exit")
    _add_with_common(top, default.all_args)
    top.set_defaults(entry=default)
    parsers: dict[str, argparse.ArgumentParser] = {"": top}
    children: dict[str, Any] = {}  # words -> argparse's subparsers action under them

    def sub(words: str, help_text: str) -> argparse.ArgumentParser:
        *path, name = words.split()
        above = " ".join(path)
        if above not in parsers:
            sub(above, groups[above])
        if above not in children:
            children[above] = parsers[above].add_subparsers(
                dest=f"command{len(path)}", required=bool(path), parser_class=_Parser, metavar="COMMAND")
        parsers[words] = children[above].add_parser(name, help=help_text, description=help_text)
        return parsers[words]

    for entry in table:
        leaf = sub(entry.words, entry.help)
        _add_with_common(leaf, entry.all_args)
        leaf.set_defaults(entry=entry)
    for words in groups:
        _add_with_common(parsers[words], ())
    return top
