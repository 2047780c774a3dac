"""The architecture is enforced, not hoped for: import-linter contracts from pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_core_really_is_free_of_io_frameworks():
    """Belt and braces for the contract: importing core pulls in no UI or database package."""
    code = ("import sys, casewatch.core.clocks, casewatch.core.rules, casewatch.core.views, casewatch.core.demo; "
            "print(sorted(m for m in ('textual', 'sqlalchemy', 'rich', 'aiosqlite', 'asyncpg') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
