"""Property: any text a field accepts round-trips exactly (trimmed) through --json, and its human
rendering holds no control character and no extra line; any text it refuses is one line, exit 2."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casewatch.cli.main import main

RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029"  # all but newline
                 "\u061c\u200b\u200c\u200e\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")  # invisible (a joiner
# may stay inside an emoji)
# Mostly ordinary text, with the characters that matter mixed in often.
TEXT = st.text(st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\x1b", "\x07", "\n", "\t", "\r", "\x9b", "\u202e", "\u2066", "\u2028", "[", "é", "\u200f",
                     "\u200b", "\u061c", "\ufeff", "\u2060", "\U000e0041", "\u200d"]),
), min_size=1, max_size=60)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    location = str(tmp_path_factory.mktemp("property") / "property.db")
    assert main(["case", "new", "--title", "t", "--customer", "c", "--severity", "SEV3", "--db", location,
                 "--as", "dana"]) == 0
    return location


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def refused(code: int, out: str, err: str) -> bool:
    if code == 0:
        return False
    assert (code, out) == (2, "") and err.count("\n") == 1 and RAW.search(err) is None, err
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_a_note_round_trips_and_renders_safely(db, capsys, text):
    code, out, err = run(capsys, "case", "note", "CW-1001", text, "--db", db, "--as", "dana")
    if refused(code, out, err):
        return
    assert RAW.search(out) is None
    _, shown, _ = run(capsys, "case", "show", "CW-1001", "--json", "--db", db)
    assert json.loads(shown)["timeline"][-1]["payload"]["text"] == text.strip()
    _, human, _ = run(capsys, "case", "show", "CW-1001", "--db", db)
    assert RAW.search(human) is None
    assert human.split("timeline:\n", 1)[1].count("\n") == len(json.loads(shown)["timeline"])  # one line each


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, customer=TEXT)
def test_a_title_and_customer_round_trip_and_render_as_one_row(db, capsys, title, customer):
    code, out, err = run(capsys, "case", "new", "--title", title, "--customer", customer, "--severity", "SEV4",
                         "--db", db, "--as", "dana")
    if refused(code, out, err):
        return
    case_id = out.strip()
    _, shown, _ = run(capsys, "case", "show", case_id, "--json", "--db", db)
    assert (json.loads(shown)["title"], json.loads(shown)["customer"]) == (title.strip(), customer.strip())
    _, table, _ = run(capsys, "cases", "--filter", case_id, "--db", db)
    assert RAW.search(table) is None and len(table.splitlines()) == 2
