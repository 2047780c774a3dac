"""On a team database the wall is whoever its login is mapped to, and only a viewer's login serves it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from casewatch.cli.main import main
from tests.team.test_team_mode import cw, team  # noqa: F401 - `team` is a fixture, used by name

CASEWATCH = str(Path(sys.executable).with_name("casewatch"))


def test_the_wall_serves_as_the_viewer_its_login_is_mapped_to(team, capsys):  # noqa: F811 - the fixture
    team.add_login("wall")
    assert main(["people", "add", "wall", "--role", "viewer", "--tz", "Europe/Berlin", "--db", team.url("alice")]) == 0
    assert main(["team", "grant", "wall", "--login", team.logins["wall"], "--db", team.url("alice")]) == 0
    team.sql("admin", f'GRANT "{team.member}" TO "{team.logins["wall"]}"')
    capsys.readouterr()

    code, out, err = cw(capsys, "wall", "--db", team.url("bob"), "--port", "0")
    assert (code, out) == (2, "") and "bob is on the roster as agent: the wall runs as a viewer of its own" in err

    server = subprocess.Popen([CASEWATCH, "wall", "--db", team.url("wall"), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert re.search(r"serving on http://127\.0\.0\.1:\d+/ as wall;", line), line + server.stderr.read()
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert server.returncode == 0
