"""Hardening, second round, through the CLI on SQLite and PostgreSQL: policy text under the rules of
typed text, files capped at 1 MB, and Markdown exports that ping no channel when pasted into chat."""

from __future__ import annotations

import json
import os
from pathlib import Path

from casewatch.cli.main import main
from casewatch.core.policy import DEFAULT_POLICY_TOML

PINGS = "@everyone <!channel> and @here <!here> <!everyone> @channel"


def cw(capsys, db: str, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", db, "--as", "dana"])
    out, err = capsys.readouterr()
    return code, out, err


def policy_version(capsys, db: str) -> str:
    code, out, _ = cw(capsys, db, "policy", "show")
    assert code == 0
    return out


def test_a_policy_with_hostile_or_huge_text_is_refused_in_one_line_and_not_applied(db_url, capsys, tmp_path):
    before = policy_version(capsys, db_url)
    hostile = tmp_path / "hostile.toml"
    hostile.write_text(DEFAULT_POLICY_TOML.replace('label = "Critical"', 'label = "Crit\\u001b]0;x\\u0007ical"'))
    code, out, err = cw(capsys, db_url, "policy", "apply", str(hostile))
    assert (code, out) == (2, "") and err.count("\n") == 1 and "\x1b" not in err
    assert err.endswith(f"{hostile}:5: severities.SEV1.label: control character U+001B at position 5 is not allowed\n")
    huge = tmp_path / "huge.toml"
    huge.write_text(DEFAULT_POLICY_TOML.replace('label = "Critical"', 'label = "' + "C" * (2 * 1024 * 1024) + '"'))
    for command in ("apply", "check"):
        code, out, err = cw(capsys, db_url, "policy", command, str(huge))
        assert (code, out) == (2, "") and err.count("\n") == 1, err[:300]
        assert f"{huge}: too large ({huge.stat().st_size:,} bytes; a policy or config file may hold at most 1 MB)" in err
    assert policy_version(capsys, db_url) == before  # nothing was applied


def test_a_config_file_over_1_mb_is_refused_in_one_line(db_url, capsys):
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "casewatch" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('theme = "casewatch-dark"\n' + "# padding\n" * 120_000)
    code, out, err = cw(capsys, db_url, "cases")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(f"casewatch: {config}: too large (") and "1 MB" in err


def test_markdown_exports_break_channel_wide_mentions(db_url, capsys):
    assert cw(capsys, db_url, "case", "new", "--title", f"Outage {PINGS}", "--customer", "ACME", "--severity",
              "SEV1")[0] == 0
    assert cw(capsys, db_url, "case", "note", "CW-1001", f"told {PINGS}")[0] == 0
    assert cw(capsys, db_url, "people", "add", "ken", "--role", "lead", "--tz", "UTC")[0] == 0
    assert cw(capsys, db_url, "shift", "start")[0] == 0
    assert cw(capsys, db_url, "handoff", "prepare", "--to", "ken", "--note", f"heads up {PINGS}")[0] == 0
    exports = [cw(capsys, db_url, "case", "packet", "CW-1001")[1], cw(capsys, db_url, "handoff", "show", "1")[1]]
    for md in exports:
        for mention in ("@everyone", "<!channel>", "@here", "<!here>", "<!everyone>", "@channel"):
            assert md.count(mention) >= 1 and md.count(mention) == md.count(f"`{mention}`"), (mention, md)
    code, out, _ = cw(capsys, db_url, "case", "packet", "CW-1001", "--format", "json")
    assert code == 0 and f"Outage {PINGS}" in json.loads(out).values()  # JSON keeps the exact text
