"""The README's `[alerts]` example works as written: the config file accepts it, and its notify-send
command (a stand-in notify-send on PATH records what it is given) gets the alert in its arguments."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from casewatch.alert_command import run_alert_command
from casewatch.cli.environment import load_config
from casewatch.core.alerts import Alert, Scope
from casewatch.core.clocks import ClockKind, ClockState
from casewatch.core.models import Severity

README = Path(__file__).parent.parent / "README.md"


def readme_alerts_table() -> str:
    [block] = [b for b in re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S) if "[alerts]" in b]
    return block


async def test_the_readme_notify_send_example_works(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(readme_alerts_table())
    settings = load_config(config).alerts
    assert settings.cases is Scope.AUTO and settings.bell is True and settings.command[0] == "sh"

    bin_dir, seen = tmp_path / "bin", tmp_path / "notify-send.json"
    bin_dir.mkdir()
    fake = bin_dir / "notify-send"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nopen({str(seen)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    alert = Alert("CW-1001", 'Login fails "$(reboot)" `id` [b]ACME', Severity.SEV1, ClockKind.CUSTOMER_UPDATE,
                  ClockState.BREACHED, datetime(2026, 11, 27, 14, 15, tzinfo=UTC), datetime(2026, 11, 27, 14, 15,
                                                                                            tzinfo=UTC))
    zone = ZoneInfo("Europe/Berlin")
    assert await run_alert_command(settings.command, alert.environment(zone)) is None
    assert json.loads(seen.read_text()) == [
        "--app-name=casewatch", "--urgency=critical", "casewatch: breached",
        'CW-1001 (SEV1) breached: customer update due Fri 15:15 CET — Login fails "$(reboot)" `id` [b]ACME']


async def test_a_title_starting_with_a_dash_is_data_not_an_option(tmp_path, monkeypatch):
    """The README's example, with a title notify-send would take for options if it were an argument."""
    config = tmp_path / "config.toml"
    config.write_text(readme_alerts_table())
    settings = load_config(config).alerts
    bin_dir, seen = tmp_path / "bin", tmp_path / "notify-send.json"
    bin_dir.mkdir()
    fake = bin_dir / "notify-send"
    fake.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    f"open({str(seen)!r}, 'w').write(json.dumps([sys.argv[1:], os.environ['CASEWATCH_TITLE']]))\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("PGPASSWORD", "hunter2")
    title = "--urgency=low -h"
    at = datetime(2026, 11, 27, 14, 15, tzinfo=UTC)
    alert = Alert("CW-1001", title, Severity.SEV1, ClockKind.OWNER, ClockState.WARNING, at, at)
    assert await run_alert_command(settings.command, alert.environment(ZoneInfo("UTC")), passed=settings.env) is None
    argv, variable = json.loads(seen.read_text())
    assert variable == title
    assert argv[:3] == ["--app-name=casewatch", "--urgency=critical", "casewatch: warning"]
    assert len(argv) == 4 and argv[3].startswith("CW-1001 (SEV1) warning: ") and argv[3].endswith(title)
