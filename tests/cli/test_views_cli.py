"""`casewatch cases --mine | --unowned | --waiting | --breached`: the board's one-key views in the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from casewatch import paths
from casewatch.cli.main import build_parser
from casewatch.cli.subcommands import SUBCOMMANDS
from casewatch.core.models import iso_z
from tests.cli.test_cli import cw  # noqa: F401 - the fixture

LONG_AGO = iso_z(datetime.now(UTC) - timedelta(days=2))


@pytest.fixture
def floor(cw):  # noqa: F811 - the fixture imported above
    def new(title: str, severity: str, *more: str) -> str:
        code, out, err = cw("case", "new", "--title", title, "--customer", "ACME", "--severity", severity, *more)
        assert code == 0, err
        return out.strip()

    def run(*args: str) -> None:
        code, _, err = cw(*args)
        assert code == 0, err

    own = new("Mine as owner", "SEV2")
    run("case", "assign", own, "dana")
    run("case", "comms", own, "raj")
    waiting = new("Waiting on them", "SEV3")
    run("case", "assign", waiting, "mei")
    run("case", "comms", waiting, "raj")
    run("case", "status", waiting, "waiting_on_customer")
    late = new("Late and nobody on it", "SEV1", "--at", LONG_AGO)
    comms = new("Mine as comms", "SEV4")
    run("case", "assign", comms, "mei")
    run("case", "comms", comms, "dana")
    authority = new("Mine as route authority", "SEV3")
    run("case", "assign", authority, "mei")
    run("case", "comms", authority, "raj")
    run("case", "authority", authority, "dana")
    return {"own": own, "waiting": waiting, "late": late, "comms": comms, "authority": authority}


def ids(cw, *args: str) -> set[str]:  # noqa: F811
    code, out, err = cw("cases", "--json", *args)
    assert code == 0, err
    return {case["id"] for case in json.loads(out)}


def test_each_view_lists_its_cases(cw, floor):  # noqa: F811
    assert ids(cw) == set(floor.values())
    assert ids(cw, "--mine") == {floor["own"], floor["comms"], floor["authority"]}
    assert ids(cw, "--mine", "--as", "mei") == {floor["waiting"], floor["comms"], floor["authority"]}
    assert ids(cw, "--unowned") == {floor["late"]}
    assert ids(cw, "--waiting") == {floor["waiting"]}
    assert ids(cw, "--breached") == {floor["late"]}


def test_a_view_combines_with_the_filter_and_the_table_says_when_nothing_matches(cw, floor):  # noqa: F811
    assert ids(cw, "--mine", "--filter", "comms") == {floor["comms"]}
    code, out, _ = cw("cases", "--waiting", "--filter", "late")
    assert (code, out) == (0, "no case matches\n")
    code, out, _ = cw("cases", "--unowned")
    assert code == 0 and floor["late"] in out and floor["own"] not in out


def test_breached_is_read_at_as_of(cw, floor):  # noqa: F811
    assert ids(cw, "--breached", "--as-of", LONG_AGO) == set()


def test_a_saved_view_lists_its_cases_and_narrows_with_the_filter(cw, floor):  # noqa: F811
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[views]\n"mine, waiting" = "status:waiting"\nsev3 = "sev:3"\n', encoding="utf-8")
    assert ids(cw, "--view", "SEV3") == {floor["waiting"], floor["authority"]}
    assert ids(cw, "--view", "sev3", "--filter", "owner:mei is:mine") == {floor["authority"]}
    code, out, err = cw("cases", "--ids", "--view", "mine, waiting")
    assert (code, out) == (0, f"{floor['waiting']}\n")
    code, out, err = cw("cases", "--view", "triage")
    assert (code, out) == (2, "") and "no saved view 'triage' (views: mine, waiting, sev3)" in err
    assert err.count("\n") == 1


def test_a_saved_view_with_a_bad_filter_is_the_config_files_error_with_its_line(cw):  # noqa: F811
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('user = "dana"\n\n[views]\ntriage = "sev:1,2"\nlate = "sev:9 is:breached"\n', encoding="utf-8")
    code, out, err = cw("cases")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{config}:5: views.late: sev:9: a severity is 1 to 4" in err


def test_the_shift_leads_mine_has_the_cases_with_no_named_authority(cw, floor):  # noqa: F811
    assert cw("shift", "start")[0] == 0  # dana leads: every case without a named authority is hers too
    assert ids(cw, "--mine") == set(floor.values())
    assert ids(cw, "--filter", "is:mine", "--as", "mei") == {floor["waiting"], floor["comms"], floor["authority"]}
    code, _, _ = cw("case", "authority", floor["late"], "mei")
    assert code == 0 and ids(cw, "--mine") == set(floor.values()) - {floor["late"]}


def test_views_exclude_each_other(cw, floor):  # noqa: F811
    code, out, err = cw("cases", "--mine", "--breached")
    assert code == 2 and out == "" and "not allowed with argument" in err and err.count("\n") == 1


@pytest.mark.parametrize("words", [entry.words for entry in SUBCOMMANDS], ids=lambda words: words)
def test_every_subcommand_prints_its_help(words, capsys):
    """Options that exclude each other (`cases --mine | --breached`, `metrics --json | --csv`) are
    shown as such; --help once failed with a traceback on them."""
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*words.split(), "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0 and out.startswith("usage: casewatch")
    if words == "cases":
        assert "[--mine | --unowned | --waiting | --breached]" in " ".join(out.split())


def test_the_filter_fields_and_ids_one_per_line(cw, floor):  # noqa: F811
    assert ids(cw, "--filter", "owner:mei comms:raj") == {floor["waiting"], floor["authority"]}
    assert ids(cw, "--filter", "owner:none") == {floor["late"]}
    assert ids(cw, "--filter", "sev:1,2") == {floor["own"], floor["late"]}
    assert ids(cw, "--filter", "status:waiting") == {floor["waiting"]}
    assert ids(cw, "--filter", "is:mine is:unowned") == set()
    assert ids(cw, "--filter", "is:breached acme") == {floor["late"]}
    code, out, err = cw("cases", "--filter", "owner:mei", "--ids")
    assert code == 0 and err == ""
    listed = [case["id"] for case in json.loads(cw("cases", "--filter", "owner:mei", "--json")[1])]
    assert out.splitlines() == listed and set(listed) == {floor["waiting"], floor["authority"], floor["comms"]}
    assert cw("cases", "--filter", "owner:nobody-here", "--ids") == (0, "", "")  # nothing for xargs to run


def test_a_bad_filter_is_one_line_and_exit_2(cw, floor):  # noqa: F811
    code, out, err = cw("cases", "--filter", "sev:7")
    assert code == 2 and out == "" and "sev:7" in err and err.count("\n") == 1
    code, _, err = cw("cases", "--ids", "--json")
    assert code == 2 and "not allowed with argument" in err


def test_is_unread_reads_the_persons_marks_file_as_the_board_keeps_it(cw, floor, tmp_path):  # noqa: F811
    from casewatch import paths
    from casewatch.local_marks import load_marks
    from casewatch.storage.target import resolve_target

    database = resolve_target(tmp_path / "cw.db").describe()
    assert cw("cases", "--filter", "is:unread") == (0, "no case matches\n", "")  # no marks kept yet
    marks, problem = load_marks("dana", database, datetime.now(UTC) - timedelta(hours=1))
    assert problem is None
    marks.save(set(floor.values()), datetime.now(UTC))  # the board's first start, an hour ago
    assert ids(cw, "--filter", "is:unread") == set()  # every change since is dana's own
    for case_id in (floor["own"], floor["waiting"]):
        assert cw("case", "note", case_id, "[b]seen?", "--as", "raj")[0] == 0
    assert ids(cw, "--filter", "is:unread") == {floor["own"], floor["waiting"]}
    assert ids(cw, "--filter", "is:unread sev:2") == {floor["own"]}
    assert cw("case", "note", f"{floor['own']},{floor['waiting']}", "on it", "--as", "dana")[0] == 0
    assert ids(cw, "--filter", "is:unread") == {floor["own"], floor["waiting"]}  # her own note reads nothing
    assert ids(cw, "--filter", "is:unread", "--as", "raj") == set()  # raj keeps no marks here, and wrote them
    code, out, _ = cw("cases", "--json", "--filter", f"{floor['own']}")
    marks.seen.versions[floor["own"]] = json.loads(out)[0]["version"]  # dana opened it on the board
    marks.save(set(floor.values()), datetime.now(UTC))
    code, out, err = cw("cases", "--ids", "--filter", "is:unread")
    assert (code, out, err) == (0, f"{floor['waiting']}\n", "")
    paths.marks_path("dana").write_text("{not json", encoding="utf-8")
    code, out, err = cw("cases", "--ids", "--filter", "is:unread")
    assert code == 0 and out == "" and err.count("\n") == 1 and "could not be read" in err and "Traceback" not in err


def test_case_ack_is_the_shift_leads_and_says_so_in_the_timeline(cw, floor):  # noqa: F811
    code, out, err = cw("case", "ack", floor["late"], "owner", "breached")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "nobody leads the shift" in err
    assert cw("case", "ack", floor["late"], "owner", "running")[0] == 2  # not a state that alerts
    assert cw("shift", "start")[0] == 0
    code, out, err = cw("case", "ack", floor["late"], "owner", "breached", "--as", "raj")
    assert (code, out) == (2, "") and "needs the shift lead" in err and err.count("\n") == 1
    code, out, err = cw("case", "ack", floor["late"], "owner", "breached")
    assert code == 0 and "ack by dana: owner clock breached" in out, err
    code, out, _ = cw("case", "show", floor["late"], "--json")
    assert json.loads(out)["timeline"][-1]["summary"] == "ack by dana: owner clock breached"
