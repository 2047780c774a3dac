"""The one pure helper of the pty benchmarks (tests/bench/pty_runs.py): a process's CPU from /proc."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "bench"))

from pty_runs import cpu_seconds, process_cpu_s  # noqa: E402 - the bench directory is not a package


def test_cpu_is_user_plus_system_ticks_counted_from_the_last_parenthesis():
    # a command name with a space and a ')' in it must not shift the fields
    stat = "4242 (case watch) x) S 1 4242 4242 34816 4242 4194304 900 0 0 0 250 75 0 0 20 0 3 0 100 0 0"
    assert cpu_seconds(stat, ticks_per_s=100) == 3.25


def test_this_process_cpu_grows_with_work():
    before = process_cpu_s(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert process_cpu_s(os.getpid()) > before
