"""The install a user gets: a wheel built from this tree, installed (not editable) into a fresh venv.

What it catches is what only a wheel can lose: a `.tcss`, a migration or a template left out of the
package data, or a test or benchmark shipped inside it. The venv borrows the dependencies already
installed for the suite (a `.pth` naming their folder), so the test needs no network and no
resolver run; casewatch itself comes from the wheel alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the tree (building in place would leave build/ and egg-info here)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT / "casewatch", source / "casewatch", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "--quiet", "-w", out, ".", cwd=source)
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = out.glob("casewatch-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin folder. The suite's pip installs into it
    (`--python`): a pip of its own would cost ensurepip 3 s and is not what is tested."""
    venv = tmp_path_factory.mktemp("venv")
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    site = Path(_run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=venv).stdout.strip())
    # The suite's own site-packages for the dependencies. Its .pth files are not read from there, so the
    # editable casewatch of the tree under test stays out of reach.
    (site / "suite-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _run(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--no-deps", "--no-index",
                "--quiet", wheel, cwd=venv)
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


def test_the_wheel_carries_the_package_data_and_no_tests(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "casewatch/tui/styles/app.tcss" in names
    assert "casewatch/storage/migrations/script.py.mako" in names
    assert any(n.startswith("casewatch/storage/migrations/versions/0001_") for n in names)
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "/tests/" in n]


@pytest.mark.slow
def test_the_installed_command_works_from_the_wheel(installed, tmp_path):
    env = {**os.environ, "CASEWATCH_USER": "dana", "CASEWATCH_DB": str(tmp_path / "floor.db"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("PYTHONPATH", None)
    where = _run(installed / "python", "-c", "import casewatch; print(casewatch.__file__)", cwd=tmp_path, env=env)
    assert where.stdout.strip().startswith(str(installed.parent)), where.stdout + where.stderr

    version = _run(installed / "casewatch", "--version", cwd=tmp_path, env=env)
    assert (version.returncode, version.stdout.strip()) == (0, "casewatch 0.1.0"), version.stderr

    seeded = _run(installed / "casewatch", "seed-demo", "--cases", "12", "--seed", "3", cwd=tmp_path, env=env)
    assert seeded.returncode == 0, seeded.stderr
    listed = _run(installed / "casewatch", "cases", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"id":"CW-') == 12

    # The board, headless, styled from the wheel's .tcss and opened on the migrated database.
    board = _run(installed / "python", "-c", _BOARD, tmp_path / "floor.db", cwd=tmp_path, env=env)
    assert board.returncode == 0, board.stdout + board.stderr
    assert board.stdout.split() == ["BoardScreen", "12"]


_BOARD = """
import asyncio, sys
from casewatch.storage.target import resolve_target
from casewatch.tui.app import CasewatchApp

async def main():
    app = CasewatchApp(resolve_target(sys.argv[1]), "dana", zone="UTC", live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = sum(table.row_count for table in app.screen.query("CaseTable"))
        print(type(app.screen).__name__, shown)

asyncio.run(main())
"""
