"""`casewatch case assign CW-1001,CW-1002 ravi` and the like: each case its own event, in one
transaction; a case that refuses is listed with its reason and the others go through."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import cw  # noqa: F401 - the fixture


@pytest.fixture
def three(cw):  # noqa: F811
    ids = []
    for title in ("One", "Two", "Three"):
        code, out, err = cw("case", "new", "--title", title, "--customer", "ACME", "--severity", "SEV3")
        assert code == 0, err
        ids.append(out.strip())
    return ids


def show(cw, case_id: str) -> dict:  # noqa: F811
    code, out, err = cw("case", "show", case_id, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_list_of_ids_writes_one_event_per_case(cw, three):  # noqa: F811
    code, out, err = cw("case", "assign", ",".join(three).lower(), "raj")
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{case_id} v2: internal owner: nobody → raj" for case_id in three]
    code, out, err = cw("case", "severity", f"{three[0]},{three[2]}", "SEV2", "--reason", "spreading")
    assert code == 0 and [line.split(" v")[0] for line in out.splitlines()] == [three[0], three[2]]
    assert [show(cw, case_id)["severity"] for case_id in three] == ["SEV2", "SEV3", "SEV2"]
    code, out, _ = cw("case", "note", ",".join(three), "end of shift: checked")
    assert code == 0 and len(out.splitlines()) == 3


def test_a_case_that_refuses_is_listed_and_the_rest_go_through(cw, three):  # noqa: F811
    assert cw("case", "assign", three[1], "raj")[0] == 0  # already raj's: assigning raj again is refused
    assert cw("case", "status", three[2], "resolved")[0] == 0  # resolved: it leaves the open cases
    code, out, err = cw("case", "assign", ",".join([*three, "CW-9999"]), "raj")
    assert code == 2
    assert out.splitlines() == [f"{three[0]} v2: internal owner: nobody → raj"]
    refused = err.splitlines()
    assert [line.split(": not done: ")[0] for line in refused] == [
        f"casewatch: {three[1]}", f"casewatch: {three[2]}", "casewatch: CW-9999"]
    assert "already the internal owner" in refused[0] and "no case CW-9999" in refused[2]
    assert show(cw, three[0])["internal_owner"] == "raj"


def test_a_list_is_refused_where_it_means_nothing(cw, three):  # noqa: F811
    ids = ",".join(three)
    for args in (("case", "route", ids, "incident", "--reason", "x"),
                 ("case", "assign", ids, "raj", "--expect-version", "1"),
                 ("case", "assign", f"{three[0]},,{three[1]}", "raj")):
        code, out, err = cw(*args)
        assert code == 2 and out == "" and err.count("\n") == 1, args
    assert all(show(cw, case_id)["internal_owner"] is None for case_id in three)  # nothing was written


def test_ids_feed_a_bulk_action(cw, three):  # noqa: F811
    assert cw("case", "assign", three[0], "mei")[0] == 0
    code, out, _ = cw("cases", "--filter", "owner:none", "--ids")
    assert code == 0 and set(out.split()) == set(three[1:])
    assert cw("case", "comms", ",".join(out.split()), "raj")[0] == 0
    code, out, _ = cw("cases", "--filter", "comms:raj", "--ids")
    assert set(out.split()) == set(three[1:])
