"""The alert command runs as a real subprocess: it gets the alert as environment variables (no shell),
a hanging one is killed with everything it started, and a failure comes back as one line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap

from casewatch.alert_command import run_alert_command

VARIABLES = {"CASEWATCH_CASE_ID": "CW-1001", "CASEWATCH_TITLE": "Login fails [prod]; $(rm -rf ~) `x` \"q\""}


def script(tmp_path, body: str) -> str:
    path = tmp_path / "alert.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def gone(pid: int) -> bool:
    """No such process, or only its exit status left (a zombie waiting for whoever reaps it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def until_gone(pid: int, seconds: float = 5.0) -> bool:
    """SIGKILL is delivered asynchronously: wait for the process to be gone, up to `seconds`."""
    for _ in range(int(seconds / 0.02)):
        if gone(pid):
            return True
        await asyncio.sleep(0.02)
    return gone(pid)


async def test_the_command_gets_the_variables_and_its_arguments_as_given(tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CASEWATCH_")]:  # CI's CASEWATCH_TEST_PG_URL
        monkeypatch.delenv(name)
    out = tmp_path / "seen.json"
    dump = script(tmp_path, """
        import json, os, sys
        seen = {k: v for k, v in os.environ.items() if k.startswith("CASEWATCH_")}
        open(sys.argv[1], "w").write(json.dumps({"env": seen, "argv": sys.argv[2:]}))
    """)
    assert await run_alert_command([sys.executable, dump, str(out), "$CASEWATCH_CASE_ID", "a b"], VARIABLES) is None
    seen = json.loads(out.read_text())
    assert {name: seen["env"].get(name) for name in VARIABLES} == VARIABLES  # (the test run's own are inherited)
    assert seen["argv"] == ["$CASEWATCH_CASE_ID", "a b"]  # nothing expanded by a shell


async def test_a_hanging_command_and_what_it_started_are_killed_at_the_limit(tmp_path):
    pids = tmp_path / "pids"
    hang = script(tmp_path, """
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
        time.sleep(600)
    """)
    failure = await run_alert_command([sys.executable, hang, str(pids)], VARIABLES, timeout_s=1.0)
    assert failure == f"{sys.executable} did not finish within 1 s and was stopped"
    parent, child = (int(pid) for pid in pids.read_text().split())
    assert gone(parent)  # killed and reaped before the call returned
    assert await until_gone(child)


async def test_a_failing_command_says_how_in_one_line(tmp_path):
    fail = script(tmp_path, """
        import sys
        print("first line", file=sys.stderr)
        print("webhook said 403\\x1b[31m", file=sys.stderr)
        sys.exit(3)
    """)
    failure = await run_alert_command([sys.executable, fail], VARIABLES)
    assert failure == f"{sys.executable} exited with status 3: webhook said 403\\x1b[31m"


async def test_a_missing_program_is_reported_not_raised(tmp_path):
    failure = await run_alert_command([str(tmp_path / "no-such-notifier")], VARIABLES)
    assert failure == f"{tmp_path / 'no-such-notifier'}: No such file or directory"


async def test_the_command_gets_a_minimal_environment_and_the_names_listed(tmp_path, monkeypatch):
    """A hook's env dump held PGPASSWORD and AWS_SECRET_ACCESS_KEY: the board's own secrets stay with it."""
    for name, value in {"PGPASSWORD": "hunter2", "AWS_SECRET_ACCESS_KEY": "aws-secret", "CASEWATCH_DB":
                        "postgresql://dana:pw@db/cases", "SLACK_WEBHOOK_URL": "https://hooks.example/T1",
                        "LC_TIME": "de_DE.UTF-8", "LANG": "C.UTF-8", "HOME": str(tmp_path),
                        "DISPLAY": ":1"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "env.json"
    dump = script(tmp_path, """
        import json, os, sys
        open(sys.argv[1], "w").write(json.dumps(dict(os.environ)))
    """)
    assert await run_alert_command([sys.executable, dump, str(out)], VARIABLES) is None
    seen = json.loads(out.read_text())
    assert "PGPASSWORD" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen and "SLACK_WEBHOOK_URL" not in seen
    assert "CASEWATCH_DB" not in seen and "hunter2" not in out.read_text()
    assert seen["PATH"] == os.environ["PATH"] and seen["HOME"] == str(tmp_path) and seen["DISPLAY"] == ":1"
    assert (seen["LANG"], seen["LC_TIME"]) == ("C.UTF-8", "de_DE.UTF-8")
    assert {name: seen[name] for name in VARIABLES} == VARIABLES
    allowed = {"PATH", "HOME", "LANG", "TZ", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR",
               "DBUS_SESSION_BUS_ADDRESS", *VARIABLES}
    assert {name for name in seen if not name.startswith("LC_")} - allowed <= {"PWD"}  # (set by the child itself)

    assert await run_alert_command([sys.executable, dump, str(out)], VARIABLES, passed=("SLACK_WEBHOOK_URL",)) is None
    seen = json.loads(out.read_text())
    assert seen["SLACK_WEBHOOK_URL"] == "https://hooks.example/T1" and "PGPASSWORD" not in seen
