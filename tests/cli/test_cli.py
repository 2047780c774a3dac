"""The CLI as scripts and bots use it: output, exit codes, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casewatch.cli.main import main
from casewatch.storage.migrate import head_revision
from tests.core.test_policy import random_policies

LEAD = "dana"


@pytest.fixture
def cw(tmp_path, monkeypatch, capsys):
    """Run `casewatch ...` in-process against a fresh database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("CASEWATCH_DB", str(tmp_path / "cw.db"))
    monkeypatch.setenv("CASEWATCH_USER", LEAD)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    run("people", "add", "raj", "--role", "agent", "--tz", "Asia/Kolkata")
    run("people", "add", "mei", "--role", "specialist", "--tz", "Asia/Singapore", "--team", "identity")
    return run


def test_case_lifecycle(cw):
    code, out, _ = cw("case", "new", "--title", "Login fails [prod] for [b]ACME", "--customer", "ACME",
                      "--severity", "SEV1", "--at", "2026-11-27T11:00:00Z")
    assert code == 0 and out.strip() == "CW-1001"
    assert cw("case", "assign", "CW-1001", "mei") == (0, "CW-1001 v2: internal owner: nobody → mei\n", "")
    assert cw("case", "comms", "cw-1001", "raj")[0] == 0
    code, out, _ = cw("case", "update", "CW-1001", "--known", "500s on login", "--investigating", "IdP",
                      "--next-milestone", "rollback", "--next-update-in", "45m", "--as", "raj")
    assert code == 0 and "What we know: 500s on login" in out and "— raj" in out
    code, out, _ = cw("case", "show", "CW-1001", "--json")
    shown = json.loads(out)
    assert shown["title"] == "Login fails [prod] for [b]ACME"
    assert shown["internal_owner"] == "mei" and shown["comms_owner"] == "raj"
    assert [e["type"] for e in shown["timeline"]] == ["case_created", "owner_assigned", "comms_assigned",
                                                       "customer_update_logged"]
    assert shown["timeline"][0]["backfilled"] is True and shown["timeline"][1]["backfilled"] is False
    assert "missing role: incident-commander" in shown["flags"]


def test_cases_json_shape(cw):
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "2")
    code, out, _ = cw("cases", "--json")
    [case] = json.loads(out)
    assert code == 0
    assert set(case) == {"id", "title", "customer", "severity", "status", "route", "internal_owner",
                         "comms_owner", "escalated_at", "clocks", "evidence", "version", "source"}
    assert case["severity"] == "SEV2" and case["internal_owner"] is None and case["escalated_at"].endswith("Z")
    assert case["source"] is None  # typed in by hand
    assert set(case["clocks"]) == {"owner", "customer_update", "internal_review"}
    for clock in case["clocks"].values():
        assert set(clock) == {"due", "state", "remaining_s"}
        assert clock["state"] == "running" and clock["due"].endswith("Z") and isinstance(clock["remaining_s"], int)
    assert case["evidence"] == {"ready": 0, "required": 7, "returned": False, "gate_overrides": 0,
                                "missing": ["impact", "identifiers", "timeline", "observed", "first_checks",
                                            "attachments", "open_question"]}


def test_as_of_replays_the_log_at_an_instant(cw):
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV1", "--at", "2026-03-06T20:00:00Z")
    cw("case", "assign", "CW-1001", "mei", "--at", "2026-03-06T20:25:00Z")
    _, out, _ = cw("cases", "--json", "--as-of", "2026-03-06T20:10:00Z")
    owner = json.loads(out)[0]["clocks"]["owner"]
    assert owner == {"due": "2026-03-06T20:15:00Z", "state": "running", "remaining_s": 300}
    _, out, _ = cw("cases", "--json", "--as-of", "2026-03-06T20:20:00Z")
    assert json.loads(out)[0]["clocks"]["owner"]["state"] == "breached"
    _, out, _ = cw("cases", "--json", "--as-of", "2026-03-06T20:30:00Z")
    assert json.loads(out)[0]["clocks"]["owner"]["state"] == "met"
    _, out, _ = cw("cases", "--json", "--as-of", "2026-03-06T19:00:00Z")
    assert json.loads(out) == []  # nothing had been escalated yet


@pytest.mark.parametrize(("args", "code", "message"), [
    (["case", "assign", "CW-1001", "mei", "--as", "raj"], 2,
     "raj is an agent: naming the internal owner needs a lead"),
    (["case", "assign", "CW-1001", "ghost"], 2, "no person named 'ghost' on the roster"),
    (["case", "note", "CW-4040", "hello"], 2, "no case CW-4040"),
    (["case", "note", "CW-1001", "hi", "--as", "stranger"], 2, "'stranger' is not on the roster"),
    (["case", "severity", "CW-1001", "SEV9", "--reason", "x"], 2, "unknown severity 'SEV9'"),
    (["case", "route", "CW-1001", "engineering", "--reason", "x"], 2, "unknown route 'engineering'"),
    (["case", "status", "CW-1001", "done"], 2, "unknown status 'done'"),
    (["case", "update", "CW-1001", "--known", "k", "--investigating", "i", "--next-milestone", "m",
      "--next-update-in", "soon"], 2, "bad duration 'soon'"),
    (["case", "note", "CW-1001", "x", "--at", "yesterday"], 2, "bad timestamp 'yesterday'"),
    (["case", "note", "CW-1001", "   "], 2, "note must not be empty"),
    (["case", "status", "CW-1001", "investigating", "--expect-version", "0"], 3, "was changed by dana"),
    (["people", "add", "x", "--role", "boss", "--tz", "UTC"], 2, "unknown role 'boss'"),
    (["people", "add", "x", "--role", "agent", "--tz", "Moon/Base"], 2, "unknown time zone 'Moon/Base'"),
    (["case", "frobnicate"], 2, "invalid choice: 'frobnicate'"),
])
def test_errors_are_one_line_with_exit_codes_and_write_nothing(cw, args, code, message):
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV1")
    _, before, _ = cw("case", "show", "CW-1001", "--json")
    got, out, err = cw(*args)
    assert got == code
    assert message in err and err.count("\n") == 1 and err.startswith("casewatch: ")
    assert "Traceback" not in err and out == ""
    _, after, _ = cw("case", "show", "CW-1001", "--json")
    assert json.loads(after)["version"] == json.loads(before)["version"]


def test_policy_commands(cw, tmp_path):
    code, out, _ = cw("policy", "show")
    assert code == 0 and "[severities.SEV1]" in out
    good = tmp_path / "team.toml"
    good.write_text(out.replace('owner_within = "15m"', 'owner_within = "10m"'))
    assert cw("policy", "check", str(good)) == (0, f"{good}: ok\n", "")
    bad = tmp_path / "bad.toml"
    bad.write_text(out.replace('"15m"', '"quick"').replace('warn_at = 0.25', 'warn_at = 3', 1))
    code, _, err = cw("policy", "check", str(bad))
    assert code == 2 and err.count("\n") == 2  # every problem, one line each
    assert f"{bad}:6: severities.SEV1.owner_within: bad duration 'quick'" in err
    assert cw("policy", "apply", str(bad))[0] == 2
    assert cw("policy", "apply", str(good), "--as", "raj")[2].startswith("casewatch: raj is an agent: applying")
    assert cw("policy", "apply", str(good)) == (0, f"policy v2 applied from {good}\n", "")
    assert 'owner_within = "10m"' in cw("policy", "show")[1]
    assert cw("policy", "check", str(tmp_path / "missing.toml"))[2] == f"casewatch: {tmp_path / 'missing.toml'}: no such file\n"


def test_acting_person_precedence(cw, tmp_path, monkeypatch):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('user = "raj"\n')
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV4")
    monkeypatch.delenv("CASEWATCH_USER")
    assert cw("case", "note", "CW-1001", "from config")[1].startswith("CW-1001 v2")  # raj, from the config file
    assert json.loads(cw("case", "show", "CW-1001", "--json")[1])["timeline"][-1]["actor"] == "raj"
    monkeypatch.setenv("CASEWATCH_USER", "mei")
    cw("case", "note", "CW-1001", "from env")
    cw("case", "note", "CW-1001", "from flag", "--as", "dana")
    actors = [e["actor"] for e in json.loads(cw("case", "show", "CW-1001", "--json")[1])["timeline"]]
    assert actors[-3:] == ["raj", "mei", "dana"]
    config.write_text("user = [")
    code, _, err = cw("cases")
    assert code == 2 and "not valid TOML" in err


def test_config_problems_say_file_line_and_key_every_one_and_nothing_is_used(tmp_path, capsys):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('user = "raj"\ntz = "Mars/Base"\ncolour = "red"\n\n[keymap]\n"case.assign" = 5\n')
    db = tmp_path / "cw.db"
    assert main(["cases", "--db", str(db)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"casewatch: {config}:2: tz: unknown time zone 'Mars/Base': expected an IANA name such as Europe/Berlin",
        f"casewatch: {config}:3: colour: unknown key (expected one of alerts, db, keymap, sources, theme, tz, user, views)",
        f"casewatch: {config}:6: keymap.case.assign: must be a string",
    ]
    config.write_text('keymap = "o"\ntheme = 3\n')
    assert main(["cases", "--db", str(db)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f'casewatch: {config}:1: keymap: must be a table of binding id = "keys", e.g. "case.assign" = "O"',
        f"casewatch: {config}:2: theme: must be a string",
    ]
    assert not db.exists()


def test_new_database_registers_the_creator_as_lead(tmp_path, capsys):
    db = str(tmp_path / "fresh.db")
    assert main(["people", "list", "--json", "--db", db, "--as", "olivia"]) == 0
    people = json.loads(capsys.readouterr().out)
    assert people == [{"name": "olivia", "role": "lead", "tz": "UTC", "team": None, "display_name": None}]


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casewatch.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


@pytest.mark.parametrize("tz", ["Asia/Kolkata", ":Europe/Berlin", "/usr/share/zoneinfo/America/New_York", "Mars/Olympus"])
def test_the_creator_of_a_database_gets_the_machine_zone(tmp_path, tz):
    """Without --tz the first lead's zone is the machine's, as tzlocal reads it; never an invalid one."""
    if tz.startswith("/") and not Path(tz).exists():
        pytest.skip("no system zoneinfo files")
    result = _run("people", "list", "--json", "--db", str(tmp_path / "z.db"), "--as", "olivia", env={"TZ": tz})
    assert result.returncode == 0, result.stderr
    zone = json.loads(result.stdout)[0]["tz"]
    if tz == "Mars/Olympus":  # not a zone: the machine's own settings decide, else UTC
        assert zone and ZoneInfo(zone)
    else:
        assert zone == tz.lstrip(":").removeprefix("/usr/share/zoneinfo/")


@pytest.mark.parametrize(("location", "message"), [
    ("{tmp}/no/such/dir/cases.db", "directory {tmp}/no/such/dir does not exist"),
    ("{tmp}/notes.txt", "{tmp}/notes.txt is not a SQLite database"),
    ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
    ("postgresql+asyncpg://u:pw@h:port/db", "malformed database URL"),
])
def test_bad_databases_fail_in_one_line_without_creating_anything(tmp_path, location, message):
    (tmp_path / "notes.txt").write_text("not a database")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = _run("cases", "--db", location.format(tmp=tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"casewatch: {message.format(tmp=tmp_path)}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "notes.txt").read_text() == "not a database"


def test_newer_schema_and_unknown_theme_fail_in_one_line(tmp_path):
    import sqlite3

    db = tmp_path / "cw.db"
    assert _run("cases", "--db", str(db)).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    result = _run("cases", "--db", str(db))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"has schema ffff, newer than this casewatch knows (up to {head_revision()}); upgrade casewatch" in result.stderr
    result = _run("--theme", "solarized", "--db", str(tmp_path / "other.db"))
    assert result.returncode == 2
    assert result.stderr == ("casewatch: unknown theme 'solarized': choose casewatch-dark, casewatch-light, "
                             "casewatch-high-contrast\n")
    assert not (tmp_path / "other.db").exists()


def _board_with_keymap(tmp_path, keymap: str):
    """The board started with this [keymap] in the config file; it must refuse in one line, creating nothing."""
    config = tmp_path / "config" / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[keymap]\n{keymap}\n")
    result = _run("--db", str(tmp_path / "cw.db"), env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert not (tmp_path / "cw.db").exists()
    return result


def test_unknown_keymap_binding_is_a_one_line_error(tmp_path):
    result = _board_with_keymap(tmp_path, '"case.asign" = "o"')
    assert result.stderr.startswith("casewatch: config keymap: unknown binding id 'case.asign' "
                                    "(did you mean 'case.assign'? known: ")
    assert "case.assign" in result.stderr


def test_a_keymap_that_gives_one_key_two_actions_on_a_screen_is_a_one_line_error(tmp_path):
    """Only one of the two would ever run: `o` on the board shows the unowned cases."""
    result = _board_with_keymap(tmp_path, '"case.assign" = "o"')
    config = tmp_path / "config" / "casewatch" / "config.toml"
    assert result.stderr == (f"casewatch: {config}:2: keymap: 'o' would do two things on the board screen: "
                             "board.view_unowned and case.assign\n")


def test_the_default_keys_and_a_remap_onto_a_free_key_clash_nowhere():
    from casewatch.tui.keymap import keymap_clashes

    assert keymap_clashes({}) == []
    assert keymap_clashes({"case.assign": "O"}) == []
    assert [str(clash) for clash in keymap_clashes({"board.view_unowned": "U", "case.assign": "o"})] == [
        "'o' would do two things on the case screen: case.assign and case.reopen"]


def test_db_upgrade_says_what_it_did(tmp_path, capsys):
    db = str(tmp_path / "new.db")
    assert main(["db", "upgrade", "--db", db]) == 0
    assert capsys.readouterr().out == f"{db}: schema migrated to {head_revision()}\n"
    assert main(["db", "upgrade", "--db", db]) == 0
    assert capsys.readouterr().out == f"{db}: schema already at {head_revision()}\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(random_policies(), st.text(max_size=200)))
def test_policy_check_never_tracebacks_on_random_toml(tmp_path, capsys, text):
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["policy", "check", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err and all(line.startswith("casewatch: ") for line in err.splitlines())
    else:
        assert out == f"{path}: ok\n"


@pytest.mark.parametrize("url", [
    "postgresql+asyncpg://postgres@127.0.0.1:1/casewatch",  # nothing listens there
])
def test_unreachable_server_is_one_line_and_worth_retrying(url):
    result = _run("cases", "--db", url)
    assert result.returncode == 4 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"casewatch: cannot reach database {url} (") and "Traceback" not in result.stderr
    assert "is the server running? try again" in result.stderr and "<class" not in result.stderr


def test_cases_filter(cw):
    cw("case", "new", "--title", "Login fails", "--customer", "ACME", "--severity", "SEV2")
    cw("case", "new", "--title", "Export slow", "--customer", "Globex", "--severity", "SEV3")
    _, out, _ = cw("cases", "--json", "--filter", "acme")
    assert [case["customer"] for case in json.loads(out)] == ["ACME"]


def _complete(tmp_path, line: str) -> list[str]:
    """What shell completion (argcomplete) offers for `line`, as a shell would ask for it."""
    out = tmp_path / "completions.txt"
    env = {"_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line, "COMP_POINT": str(len(line)),
           "_ARGCOMPLETE_STDOUT_FILENAME": str(out)}
    result = subprocess.run([sys.executable, "-m", "casewatch.cli.main"], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [word.strip() for word in out.read_text().split("\n")]  # a lone match comes with a trailing space


@pytest.mark.parametrize(("line", "offered"), [
    ("casewatch ca", {"case", "cases"}),
    ("casewatch case re", {"reopen", "return", "review"}),
    ("casewatch case severity CW-1001 S", {"SEV1", "SEV2", "SEV3", "SEV4"}),
    ("casewatch case status CW-1001 w", {"waiting_on_customer"}),
    ("casewatch people add ravi --role s", {"specialist"}),
    ("casewatch case note CW-1001 hi --expect", {"--expect-version"}),
])
def test_shell_completion_offers_subcommands_options_and_values(tmp_path, line, offered):
    assert set(_complete(tmp_path, line)) == offered


def test_options_go_before_or_after_the_subcommand(cw):
    cw("case", "new", "--title", "t", "--customer", "c", "--severity", "SEV3")
    assert cw("--as", "raj", "case", "note", "CW-1001", "before")[0] == 0
    assert cw("case", "--as", "mei", "note", "CW-1001", "between")[0] == 0
    assert cw("case", "note", "CW-1001", "after", "--as", "dana")[0] == 0
    actors = [e["actor"] for e in json.loads(cw("case", "show", "CW-1001", "--json")[1])["timeline"]]
    assert actors[-3:] == ["raj", "mei", "dana"]


def test_breaches_are_history_judged_under_the_policy_then_in_force(cw, tmp_path):
    """Issue 9, defect 11: a severity downgrade (or a laxer policy) erased a breach. `case show`
    lists every breach with its clock, time, severity and policy version, and the metrics count it."""
    from datetime import UTC, datetime, timedelta

    from casewatch.core.policy import DEFAULT_POLICY_TOML

    escalated = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    code, out, err = cw("case", "new", "--title", "t", "--customer", "ACME", "--severity", "SEV1",
                        "--at", escalated.isoformat().replace("+00:00", "Z"))
    assert code == 0, err
    case_id = out.strip()
    laxer = DEFAULT_POLICY_TOML.replace('owner_within = "15m"', 'owner_within = "4h"', 1).replace(
        'customer_update_every = "20m"', 'customer_update_every = "4h"', 1)
    (tmp_path / "laxer.toml").write_text(laxer, encoding="utf-8")
    assert cw("policy", "apply", str(tmp_path / "laxer.toml"))[0] == 0
    assert cw("case", "severity", case_id, "SEV4", "--reason", "one user")[0] == 0
    shown = json.loads(cw("case", "show", case_id, "--json")[1])
    owner_due, update_due = escalated + timedelta(minutes=15), escalated + timedelta(minutes=20)
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    assert [b for b in shown["breaches"] if b["clock"] != "internal_review"] == [
        {"case_id": case_id, "clock": "owner", "at": iso(owner_due), "due": iso(owner_due), "severity": "SEV1",
         "policy_version": 1},
        {"case_id": case_id, "clock": "customer_update", "at": iso(update_due), "due": iso(update_due),
         "severity": "SEV1", "policy_version": 1},
    ]
    assert shown["clocks"]["customer_update"]["state"] == "running"  # SEV4 under the laxer policy: not late now
    text = cw("case", "show", case_id)[1]
    assert "owner clock (due" in text and "SEV1, policy v1" in text
    metrics = json.loads(cw("metrics", "--json")[1])
    assert metrics["customer_update_miss_rate"]["numerator"] == 1  # judged under v1, not under today's policy


def test_a_reopen_counts_no_breach_again(cw):
    """A SEV2 with its update clock overdue, resolved and reopened: `case show` lists the breaches it had before,
    not the same clock and due time again dated at the reopen."""
    from datetime import UTC, datetime, timedelta

    escalated = (datetime.now(UTC) - timedelta(minutes=90)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    code, out, err = cw("case", "new", "--title", "T", "--customer", "X", "--severity", "SEV2", "--at", escalated)
    assert code == 0, err
    case_id = out.strip()
    assert cw("case", "assign", case_id, "mei", "--at", escalated)[0] == 0
    before = json.loads(cw("case", "show", case_id, "--json")[1])["breaches"]
    assert before
    assert cw("case", "status", case_id, "resolved")[0] == 0
    assert cw("case", "reopen", case_id)[0] == 0
    assert json.loads(cw("case", "show", case_id, "--json")[1])["breaches"] == before
    assert f"breaches: {len(before)}\n" in cw("case", "show", case_id)[1]


def test_cases_table_shows_the_three_clocks_it_sorts_by(cw):
    """Issue 9, defect 7: `casewatch cases` shows the internal-review clock beside the other two."""
    cw("case", "new", "--title", "a", "--customer", "c", "--severity", "SEV1")
    cw("case", "new", "--title", "b", "--customer", "c", "--severity", "SEV1")
    cw("case", "assign", "CW-1002", "mei")
    code, out, _ = cw("cases")
    header, *rows = out.splitlines()
    assert code == 0 and header.split()[5:9] == ["OWNER-CLOCK", "NEXT-UPDATE", "NEXT-REVIEW", "EVID"]
    owner, update, review = (rows[1].split()[i] for i in (5, 6, 7))
    assert (owner, update, review) in {("met", "20m", "1h00m"), ("met", "19m", "59m")}  # the clock may turn a second
    assert [row.split()[0] for row in rows] == ["CW-1001", "CW-1002"]  # owner due in 15m before update in 20m


@pytest.mark.parametrize(("tz", "label", "never"), [("Asia/Singapore", "Asia/Singapore", "+08"),
                                                    ("Etc/UTC", "UTC", "Etc/UTC"), ("Europe/Berlin", "CET", "Europe")])
def test_case_show_labels_its_times_by_the_zone_abbreviation(cw, tz, label, never):
    """Issue 25 item 23: one style of zone label; where tzdata has no abbreviation (Singapore's is
    '+08'), the IANA name, never a bare offset."""
    cw("case", "new", "--title", "t", "--customer", "ACME", "--severity", "SEV2", "--at", "2026-11-27T11:00:00Z")
    code, out, err = cw("case", "show", "CW-1001", "--tz", tz)
    assert code == 0, err
    escalated = next(line for line in out.splitlines() if line.strip().startswith("escalated"))
    assert escalated.rstrip().endswith(f" {label}") and never not in out, out


def test_only_the_tracker_commands_load_the_http_client():
    """httpx and the tracker clients cost every command ~55 ms to import: only sync and deliver need them."""
    import subprocess
    import sys

    probe = "import sys, casewatch.cli.main; print(sorted(m for m in ('httpx', 'casewatch.sources.http') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"
