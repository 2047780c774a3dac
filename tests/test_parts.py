"""Every event type and every command has all of its parts. Adding one and forgetting a part fails here,
naming the part: an event needs an entry in core.events.EVENTS (apply + describe) and a rule that records
it; a command needs a rule, a CLI subcommand and, if it acts on the board, a key binding."""

from __future__ import annotations

import pytest

from casewatch.cli.spec import Write
from casewatch.cli.subcommands import SUBCOMMANDS
from casewatch.core import commands as c
from casewatch.core.events import EVENTS, ChangesCase, ChangesFloor, OpensCase
from casewatch.core.models import EventType
from casewatch.core.rules import RULES
from casewatch.storage.store import FLOOR_PROJECTIONS

# Commands with no key on the board, and why. Everything else that acts on a case has a binding
# whose id is `case.<kind>` (its `kind`).
NOT_ON_THE_BOARD = {
    c.AddPerson: "roster administration is done from the shell (`casewatch people add`)",
    c.RenamePerson: "roster administration is done from the shell (`casewatch people rename`)",
    c.ApplyPolicy: "a policy is a file, checked and applied from the shell (`casewatch policy apply`)",
    c.StartShift: "taking the shift is done from the shell (`casewatch shift start`)",
    c.PrepareHandoff: "not a case action: the handoff screen (H, binding board.handoff) prepares it",
    c.AcceptHandoff: "not a case action: the handoff screen (H, binding board.handoff) accepts it",
    c.GrantLogin: "team administration is done from the shell (`casewatch team grant`)",
    c.ImportTicket: "a ticket becomes a case by an import (`casewatch import csv`)",
    c.SeeTicket: "only an import records what the tracker said",
    c.Retitle: "only an import renames a case, after the tracker's subject",
    c.AcknowledgeAlert: "not a case key: the alert history (!, binding alerts.acknowledge) acknowledges an alert",
}

# Commands only an import records: its subcommand (`casewatch import csv`) builds them from a file.
IMPORTED_ONLY = {c.ImportTicket, c.SeeTicket, c.Retitle}


def _commands(base: type[c.Command] = c.Command) -> list[type[c.Command]]:
    """Every concrete command: the subclasses of Command that have a `kind`."""
    found = []
    for sub in base.__subclasses__():
        if "kind" in sub.model_fields:
            found.append(sub)
        found += _commands(sub)
    return found


COMMANDS = _commands()


def _kind(command: type[c.Command]) -> str:
    return command.model_fields["kind"].default


def test_the_command_list_is_found():
    assert len(COMMANDS) >= 16 and c.Note in COMMANDS and c.OnCase not in COMMANDS


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_says_how_it_applies_and_reads(event_type):
    kind = EVENTS.get(event_type)
    assert kind is not None, f"{event_type}: no entry in core.events.EVENTS (apply + describe)"
    assert isinstance(kind, OpensCase | ChangesCase | ChangesFloor)
    assert callable(kind.describe)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_is_recorded_by_a_rule(event_type):
    assert event_type in {rule.event for rule in RULES.values()}, f"{event_type}: no command's rule records it"


@pytest.mark.parametrize("event_type", [t for t, kind in EVENTS.items() if isinstance(kind, ChangesFloor)])
def test_every_floor_event_has_a_storage_projection(event_type):
    assert event_type in FLOOR_PROJECTIONS, f"{event_type}: no writer in storage.store.FLOOR_PROJECTIONS"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: cmd.__name__)
def test_every_command_has_a_rule(command):
    assert command in RULES, f"{command.__name__}: no entry in core.rules.RULES"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: cmd.__name__)
def test_every_command_on_a_case_has_a_key_binding(command):
    from casewatch.tui.keymap import binding_ids

    if command in NOT_ON_THE_BOARD:
        assert f"case.{_kind(command)}" not in binding_ids(), f"{command.__name__} has a binding now: drop the exemption"
        return
    assert f"case.{_kind(command)}" in binding_ids(), \
        f"{command.__name__}: no key binding with id 'case.{_kind(command)}' (or list it in NOT_ON_THE_BOARD)"


def _cli_writes() -> dict[type[c.Command], Write]:
    return {entry.command: entry for entry in SUBCOMMANDS if isinstance(entry, Write)}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda cmd: cmd.__name__)
def test_every_command_has_a_cli_subcommand(command):
    if command in IMPORTED_ONLY:
        return
    assert command in _cli_writes(), f"{command.__name__}: no Write entry in cli.subcommands.SUBCOMMANDS"


@pytest.mark.parametrize("entry", [e for e in _cli_writes().values() if e.build is None], ids=lambda e: e.words)
def test_cli_arguments_name_every_field_of_their_command(entry):
    """A write built from its arguments by name must offer every field, or a field silently keeps its default."""
    offered = {spec.dest for spec in entry.all_args}
    missing = set(entry.command.model_fields) - offered - {"kind", "via"}  # (`via`: set by imports only)
    assert not missing, f"`casewatch {entry.words}` has no argument for {sorted(missing)}"


def test_the_servers_vet_knows_every_event_type():
    """The insert trigger on PostgreSQL refuses an event type it does not list: a new type needs its
    required payload keys there too, or every write of it fails in team mode."""
    import importlib

    vet = importlib.import_module("casewatch.storage.migrations.versions.0010_team_trust")
    added = importlib.import_module("casewatch.storage.migrations.versions.0014_alert_acknowledged")
    assert set(vet._REQUIRED) | set(added.ADDED_REQUIRED) == {kind.value for kind in EventType}
