"""What the CLI tests share."""

from __future__ import annotations

import pytest

from casewatch.cli.main import main


@pytest.fixture
def run_cli(tmp_path, monkeypatch, capsys):
    """`casewatch ...` in-process as dana on a fresh database of the test's own; each call gives
    (exit code, stdout, stderr)."""
    monkeypatch.setenv("CASEWATCH_DB", str(tmp_path / "cw.db"))
    monkeypatch.setenv("CASEWATCH_USER", "dana")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
