"""The benchmark runner on a fresh machine (issue 25, item 27): `./dev bench --only seed_demo_sqlite`
failed with a traceback because its cache folder did not exist yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_seed_bench_makes_its_cache_folder(tmp_path):
    cache = tmp_path / "not-there-yet" / "bench"
    done = subprocess.run([sys.executable, str(ROOT / "tests/bench/bench.py"), "--only", "seed_demo_sqlite",
                           "--runs", "1", "--seed-cases", "20"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CASEWATCH_BENCH_CACHE": str(cache)}, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert '"seed_demo_sqlite"' in done.stdout or "seed_demo_sqlite" in done.stdout, done.stdout
    assert cache.is_dir() and not list(cache.iterdir())  # the run's database is cleaned up
