"""Hostile text typed into every text field of every command, through the CLI, on SQLite and
PostgreSQL: each is refused with exit 2 and one line naming the field, and nothing is written."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casewatch.cli.main import main
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.conftest import create_pg_database, drop_pg_database, pg_admin_url

ROOT = Path(__file__).resolve().parents[2]
CASE = "CW-1001"

# (command with {} where the text goes, what the error calls the field, single-line?, limit)
FIELDS = {
    "title": (["case", "new", "--title", "{}", "--customer", "c", "--severity", "SEV2"], "title", True, 200),
    "customer": (["case", "new", "--title", "t", "--customer", "{}", "--severity", "SEV2"], "customer", True, 120),
    "summary": (["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2", "--summary", "{}"],
                "summary", False, 16 * 1024),
    "involve role": (["case", "involve", CASE, "raj", "--role", "{}"], "role", True, 40),
    "severity reason": (["case", "severity", CASE, "SEV1", "--reason", "{}"], "reason", False, 500),
    "route reason": (["case", "route", CASE, "specialist:db", "--reason", "{}"], "reason", False, 500),
    "known": (["case", "update", CASE, "--known", "{}", "--investigating", "i", "--next-milestone", "m"],
              "known", False, 16 * 1024),
    "investigating": (["case", "update", CASE, "--known", "k", "--investigating", "{}", "--next-milestone", "m"],
                      "investigating", False, 16 * 1024),
    "next milestone": (["case", "update", CASE, "--known", "k", "--investigating", "i", "--next-milestone", "{}"],
                       "next milestone", False, 16 * 1024),
    "review notes": (["case", "review", CASE, "--notes", "{}"], "notes", False, 16 * 1024),
    "note": (["case", "note", CASE, "{}"], "note", False, 16 * 1024),
    "person name": (["people", "add", "{}", "--role", "agent", "--tz", "UTC"], "name", True, 40),
    "team": (["people", "add", "mo", "--role", "agent", "--tz", "UTC", "--team", "{}"], "team", True, 40),
    "new name": (["people", "rename", "raj", "{}"], "name", True, 40),
    "evidence value": (["case", "evidence", CASE, "attachments", "--state", "done", "--value", "{}"],
                       "value", False, 64 * 1024),
    "evidence reason": (["case", "evidence", CASE, "attachments", "--state", "na", "--reason", "{}"],
                        "reason", False, 500),
    "display name": (["people", "add", "mo", "--role", "agent", "--tz", "UTC", "--display-name", "{}"],
                     "display name", True, 80),
}
INPUTS = {
    "ESC": ("before \x1b after", "U+001B at position 8"),
    "BEL": ("ding\x07", "U+0007 at position 5"),
    "OSC 52": ("x\x1b]52;c;ZXZpbA==\x07", "U+001B at position 2"),
    "CSI 2J": ("\x1b[2Jcleared", "U+001B at position 1"),
    "C1 CSI": ("a\x9b31m", "U+009B at position 2"),
    "U+202E": ("abc\u202etxt.exe", "bidirectional override U+202E at position 4"),
    "newline": ("one\ntwo", "U+000A at position 4"),
    "too long": (None, "too long"),
    "invalid UTF-8": ("caf\udce9", "not valid UTF-8"),
    "zero-width space": ("AC\u200bME", "invisible character U+200B at position 3"),
    "Arabic letter mark": ("ab\u061c", "invisible character U+061C at position 3"),
    "word joiner": ("\u2060x", "invisible character U+2060 at position 1"),
    "BOM": ("x\ufeffy", "invisible character U+FEFF at position 2"),
    "TAG": ("flag\U000e0041", "invisible character U+E0041 at position 5"),
    "bare ZWJ": ("a\u200db", "invisible character U+200D at position 2"),
}
LINE_ONLY = {"newline", "zero-width space", "Arabic letter mark", "word joiner", "BOM", "TAG", "bare ZWJ"}
"""What only a single-line field refuses: a multi-line one keeps it (and shows invisible ones escaped)."""
CASES = [(field, attack) for field in FIELDS for attack in INPUTS
         if not (attack in LINE_ONLY and not FIELDS[field][2])]


def argv_for(field: str, attack: str) -> list[str]:
    template, _, _, limit = FIELDS[field]
    text = INPUTS[attack][0] if INPUTS[attack][0] is not None else "x" * (limit + 1)
    return [text if part == "{}" else part for part in template]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def floor(request, tmp_path_factory):
    """One database per backend with a case, a specialist and a team to aim at."""
    if request.param == "sqlite":
        location = str(tmp_path_factory.mktemp("hostile") / "hostile.db")
    elif pg_admin_url() is None:
        pytest.skip("CASEWATCH_TEST_PG_URL is not set")
    else:
        location = create_pg_database()
    for args in (["people", "add", "raj", "--role", "specialist", "--tz", "UTC", "--team", "db"],
                 ["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV2"]):
        assert main([*args, "--db", location, "--as", "dana"]) == 0
    yield location
    if request.param == "postgresql":
        drop_pg_database(location)


def fingerprint(location: str) -> tuple[int, list]:
    async def read():
        async with await Store.open(resolve_target(location)) as store:
            return await store.high_water(), sorted((await store.roster()).keys())
    return asyncio.run(read())


@pytest.mark.parametrize(("field", "attack"), CASES, ids=[f"{f}-{a}" for f, a in CASES])
def test_hostile_text_is_refused_in_one_line_and_nothing_is_written(floor, capsys, field, attack):
    before = fingerprint(floor)
    code = main([*argv_for(field, attack), "--db", floor, "--as", "dana"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), err
    assert err.startswith("casewatch: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "\x1b" not in err and "\x07" not in err and "\u202e" not in err and "\x9b" not in err
    label, limit = FIELDS[field][1], FIELDS[field][3]
    expected = INPUTS[attack][1]
    if attack == "too long":
        unit = "bytes" if limit % 1024 == 0 else "characters"
        assert f"{label}: too long ({limit + 1} {unit}; the limit is {limit}" in err
    elif attack == "invalid UTF-8":
        assert expected in err
    else:
        assert f"{label}: " in err and expected in err and "is not allowed" in err
    assert fingerprint(floor) == before


def test_control_characters_are_named_exactly(floor, capsys):
    code = main(["case", "new", "--title", "Login \x1b]0;x\x07", "--customer", "c", "--severity", "SEV2",
                 "--db", floor, "--as", "dana"])
    assert (code, capsys.readouterr().err) == (
        2, "casewatch: title: control character U+001B at position 7 is not allowed\n")


@pytest.mark.slow
def test_invalid_utf8_bytes_from_a_real_shell_name_the_argument(floor):
    if "://" in floor:
        pytest.skip("once is enough: it never reaches the database")
    for args, name in (([b"case", b"note", CASE.encode(), b"caf\xe9"], "argument 4"),
                       ([b"case", b"new", b"--title", b"\xff\xfe", b"--customer", b"c", b"--severity", b"1"],
                        "--title"),
                       ([b"case", b"new", b"--title=ok\xff", b"--customer", b"c", b"--severity", b"1"], "--title")):
        result = subprocess.run([sys.executable.encode(), b"-m", b"casewatch.cli.main", *args, b"--db",
                                 floor.encode(), b"--as", b"dana"], capture_output=True, cwd=ROOT, timeout=60,
                                env={**os.environ})
        err = result.stderr.decode()
        assert result.returncode == 2 and err.count("\n") == 1 and err.startswith(f"casewatch: {name}: not valid UTF-8")


def test_multi_line_fields_keep_newlines_and_tabs(floor, capsys):
    note = "line one\n\tindented line two"
    assert main(["case", "note", CASE, note, "--db", floor, "--as", "dana"]) == 0
    capsys.readouterr()
    assert main(["case", "show", CASE, "--json", "--db", floor]) == 0
    assert json.loads(capsys.readouterr().out)["timeline"][-1]["payload"]["text"] == note


def test_multi_line_fields_keep_invisible_characters_and_show_them_escaped(floor, capsys):
    note = "see AC\u200bME\u2060 \ufeffhere\U000e0041 \u061c"
    assert main(["case", "note", CASE, note, "--db", floor, "--as", "dana"]) == 0
    capsys.readouterr()
    assert main(["case", "show", CASE, "--db", floor]) == 0
    out = capsys.readouterr().out
    assert "see AC\\u200bME\\u2060 \\ufeffhere\\udb40\\udc41 \\u061c" in out
    assert not any(char in out for char in "\u200b\u2060\ufeff\U000e0041\u061c")
    assert main(["case", "show", CASE, "--json", "--db", floor]) == 0
    assert json.loads(capsys.readouterr().out)["timeline"][-1]["payload"]["text"] == note  # exact


def test_a_zero_width_joiner_inside_an_emoji_may_stay(floor, capsys):
    title = "Coder \U0001f469\u200d\U0001f4bb and fire \u2764\ufe0f\u200d\U0001f525"
    assert main(["case", "new", "--title", title, "--customer", "c", "--severity", "SEV3", "--db", floor,
                 "--as", "dana"]) == 0
    capsys.readouterr()
    assert main(["cases", "--filter", "coder", "--json", "--db", floor]) == 0
    [found] = json.loads(capsys.readouterr().out)
    assert found["title"] == title
    assert main(["cases", "--filter", "coder", "--db", floor]) == 0
    assert "\U0001f469\u200d\U0001f4bb" in capsys.readouterr().out  # shown as the one emoji it is
