"""Types and lint are checked by the suite, with the configuration in pyproject.toml."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# mypy's cache in the user's cache folder, shared by every clone on the machine: a new clone (as CI
# makes) would otherwise analyse the standard library and every dependency again, 13 s of one worker.
# mypy checks each cached module against its source's hash, so a cache from another tree is safe.
MYPY_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "casewatch" / "mypy"


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name(tool)), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_mypy_finds_no_errors():
    result = _run("mypy", "--cache-dir", str(MYPY_CACHE), "casewatch")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "casewatch", "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "All checks passed!"
