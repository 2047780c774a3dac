"""Roster rules through the CLI: a roster always keeps a lead; seed-demo never mixes demo cases into
real ones by accident and needs a lead on an existing database."""

from __future__ import annotations

import json

import pytest

from casewatch.cli.main import main


@pytest.fixture
def cw(db_url, capsys):
    def run(*args: str, actor: str = "dana") -> tuple[int, str, str]:
        code = main([*args, "--db", db_url, "--as", actor])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def roles(cw) -> dict[str, str]:
    return {p["name"]: p["role"] for p in json.loads(cw("people", "list", "--json")[1])}


def test_the_last_lead_cannot_be_demoted(cw):
    assert roles(cw) == {"dana": "lead"}
    assert cw("people", "add", "dana", "--role", "agent", "--tz", "UTC") == (
        2, "", "casewatch: dana is the last lead: a roster needs at least one lead, so make someone else a lead "
               "first\n")
    assert roles(cw) == {"dana": "lead"}
    assert cw("people", "add", "raj", "--role", "lead", "--tz", "UTC")[0] == 0
    assert cw("people", "add", "dana", "--role", "agent", "--tz", "UTC")[0] == 0  # raj still leads
    assert cw("people", "add", "raj", "--role", "viewer", "--tz", "UTC", actor="raj")[0] == 2
    assert roles(cw) == {"dana": "agent", "raj": "lead"}


def test_seed_demo_on_a_fresh_database_makes_the_seeder_its_first_lead(cw):
    code, out, err = cw("seed-demo", "--cases", "3", actor="olivia")
    assert (code, err) == (0, "") and out.startswith("seeded 3 cases into ")
    assert roles(cw)["olivia"] == "lead"
    assert len(json.loads(cw("cases", "--json")[1])) >= 1


def test_seed_demo_refuses_a_database_with_cases_unless_appending(cw):
    assert cw("case", "new", "--title", "real outage", "--customer", "ACME", "--severity", "SEV1")[0] == 0
    code, out, err = cw("seed-demo", "--cases", "3")
    assert (code, out) == (2, "")
    assert err.endswith("already has cases: pass --append to add demo cases to them\n") and err.count("\n") == 1
    assert [c["title"] for c in json.loads(cw("cases", "--json")[1])] == ["real outage"]
    assert cw("seed-demo", "--cases", "3", "--append")[0] == 0
    assert len(json.loads(cw("cases", "--json")[1])) > 1


def test_seed_demo_on_an_existing_database_needs_a_lead(cw):
    assert cw("people", "add", "raj", "--role", "agent", "--tz", "UTC")[0] == 0
    assert cw("seed-demo", "--cases", "3", actor="raj") == (
        2, "", "casewatch: raj is an agent: seeding demo data needs a lead\n")
    code, _, err = cw("seed-demo", "--cases", "3", actor="stranger")
    assert code == 2 and "'stranger' is not on the roster" in err and err.count("\n") == 1
    assert json.loads(cw("cases", "--json")[1]) == []


async def _plant_legacy_person(location: str, name: str) -> None:
    """A roster entry as a version from before names were handles could have written it."""
    from datetime import UTC, datetime

    from casewatch.core.models import Event, EventType
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    now = datetime.now(UTC)
    async with await Store.open(resolve_target(location)) as store, store._writer.begin() as conn:
        event = Event(type=EventType.PERSON_ADDED, actor="dana", occurred_at=now, recorded_at=now,
                      payload={"name": name, "role": "lead", "tz": "UTC", "team": None, "before": None})
        await store._project(conn, await store._append(conn, event))


def test_legacy_names_keep_working_are_marked_and_can_be_renamed_by_a_lead(cw, db_url):
    import asyncio

    cw("people", "list")
    asyncio.run(_plant_legacy_person(db_url, "lеad"))  # a Cyrillic "е"
    assert cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV3", actor="lеad")[0] == 0
    code, out, _ = cw("people", "list")
    [marked] = [line for line in out.splitlines() if "not a handle" in line]
    assert code == 0 and marked.startswith("lеad ") and "casewatch people rename 'lеad' NEW" in marked
    assert cw("people", "add", "lеad2", "--role", "agent", "--tz", "UTC")[2].startswith(
        "casewatch: name: 'lеad2' is not a handle")
    assert cw("people", "add", "raj", "--role", "agent", "--tz", "UTC")[0] == 0
    assert cw("people", "rename", "lеad", "lead", actor="raj") == (
        2, "", "casewatch: raj is an agent: changing the roster needs a lead\n")
    assert cw("people", "rename", "lеad", "raj")[2] == "casewatch: 'raj' is already on the roster; choose another name\n"
    assert cw("people", "rename", "lеad", "lead") == (0, "roster: lеad renamed to lead\n", "")
    assert roles(cw) == {"dana": "lead", "lead": "lead", "raj": "agent"}
    assert "not a handle" not in cw("people", "list")[1]
    assert cw("case", "note", "CW-1001", "as the renamed lead", actor="lead")[0] == 0
    code, _, err = cw("case", "note", "CW-1001", "old name", actor="lеad")
    assert code == 2 and "not on the roster" in err


def test_a_display_name_is_free_text_beside_the_handle(cw):
    assert cw("people", "add", "dscully", "--role", "agent", "--tz", "UTC", "--display-name", " Dana Scully ")[0] == 0
    [person] = [p for p in json.loads(cw("people", "list", "--json")[1]) if p["name"] == "dscully"]
    assert person["display_name"] == "Dana Scully"
    [line] = [line for line in cw("people", "list")[1].splitlines() if line.startswith("dscully")]
    assert "Dana Scully" in line and "not a handle" not in line
