"""casewatch benchmarks (`./dev bench`; not part of `./dev test`).

Prints one JSON object per figure, each with its target and whether it was met, and exits 1 when
any figure misses its target. Every measurement runs in a fresh child process (so each peak RSS is
that run's own, and board and bare table start from the same state); board and bare-table runs
alternate so both see the same machine. Ticks are reported as median, p95 and max over `--ticks`
ticks; every other figure is the median of `--runs` runs, with min and max.

    ./dev bench                         # everything (about ten minutes on an idle 2-core machine)
    ./dev bench --only tick seed        # figures whose name contains any of these words
    ./dev bench --runs 3 --ticks 40     # quicker, noisier (the defaults are the honest minimum)
    ./dev bench --only metrics          # metrics over 50,000 closed escalations (seeded once, then cached)
    ./dev bench --only verify           # db verify: the 10k floor's log replayed and compared
    ./dev bench --only import           # import csv: a 20,000-row Zendesk export into an empty database
    ./dev bench --only sync             # sync: 10,000 Zendesk tickets in 10 pages from 127.0.0.1, empty database
    ./dev bench --only filter           # the / filter's language per keystroke on 10,000 open cases
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import databases as db

SIZES = (2_000, 10_000)
TICK_TARGETS = {2_000: (10.0, 20.0), 10_000: (25.0, 50.0)}  # median, p95 ms
SEED_CASES = 1_000
AS_OF = db.NOW - timedelta(hours=1)  # an hour back: about 2,800 of the 10,000 cases changed since


@dataclass
class Figure:
    name: str
    target: str
    ok: bool
    values: dict = field(default_factory=dict)
    measured: str = ""  # how: "pty", "commands" or "in-process"

    def line(self) -> str:
        values = {k: _rounded(v) for k, v in self.values.items()}
        return json.dumps({"figure": self.name, "measured": self.measured, "target": self.target, "ok": self.ok,
                           **values}, ensure_ascii=False)


def _rounded(value):
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def label(cases: int) -> str:
    return f"{cases // 1000}k" if cases % 1000 == 0 else str(cases)


# ----------------------------------------------------------------------------- children


def child(kind: str, *args) -> dict:
    """One measurement in a fresh interpreter (same executable, environment and working directory)."""
    command = [sys.executable, __file__, "--child", kind, json.dumps([str(a) for a in args])]
    done = subprocess.run(command, cwd=db.ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: child {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(kind: str, args: list[str]) -> dict:
    import app_runs
    import store_runs

    now = db.NOW
    runners: dict[str, Callable[[], dict]] = {
        "board": lambda: app_runs.board(args[0], now),
        "bare": lambda: app_runs.bare(args[0], now),
        "ticks": lambda: app_runs.ticks(args[0], now, int(args[1])),
        "idle": lambda: app_runs.idle(args[0], now, float(args[1])),
        "seed": lambda: store_runs.seed(args[0], int(args[1])),
        "sync_idle": lambda: store_runs.sync_idle(args[0], args[1], int(args[2])),
        "filter": lambda: store_runs.filter_keystrokes(args[0]),
    }
    return runners[kind]()


def command_run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall milliseconds, CPU milliseconds and peak RSS (MB) of one `casewatch` command run in its
    own process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024


def installed_bytecode() -> None:
    """Byte-compile casewatch, as an installation holds it (pip compiles at install, and Python
    caches what it imports). Where the environment sets PYTHONDONTWRITEBYTECODE (as this
    workplace's does), every measured command would otherwise compile the whole package first,
    about 0.1 s that no user's start pays."""
    import compileall

    import casewatch

    compileall.compile_dir(Path(casewatch.__file__).parent, quiet=1)


# ------------------------------------------------------------------------ pty figures

TERMINALS = ((80, 24), (200, 50))  # columns, lines
IDLE_TARGETS = {2_000: 2.0, 10_000: 3.0}  # % of one core
KEY_TARGET_MS = 50.0


def casewatch_path() -> str:
    """The installed entry point, as a user starts it."""
    return str(Path(sys.executable).with_name("casewatch"))


def _pty_board(cases: int) -> tuple[list[str], bytes, dict[str, str]]:
    import pty_runs

    path = db.sqlite_live_floor(cases)
    return ([casewatch_path(), "--db", str(path), "--as", "bench"], f"{cases} open".encode(),
            pty_runs.environment(db.CACHE / "pty-home"))


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def pty_first_frame_figure(cases: int, size: tuple[int, int], runs: int) -> Figure:
    """Process start to the first full frame, in a pty: the installed board against the bare table
    (tests/bench/bare_table.py) started the same way, alternating."""
    import pty_runs

    argv, ready, env = _pty_board(cases)
    bare_argv = [sys.executable, str(db.ROOT / "tests/bench/bare_table.py"), argv[2]]
    boards, bares = [], []
    for _ in range(runs):
        boards.append(pty_runs.first_frame(argv, ready, size, env, b"q"))
        bares.append(pty_runs.first_frame(bare_argv, f"{cases} rows".encode(), size, env, b"\x11"))
    board_ms, bare_ms = spread([b["ms"] for b in boards]), spread([b["ms"] for b in bares])
    board_cpu, bare_cpu = spread([b["cpu_ms"] for b in boards]), spread([b["cpu_ms"] for b in bares])
    cpu_ratio = board_cpu["median"] / bare_cpu["median"]
    return Figure(f"pty_first_frame_{label(cases)}_{_size(size)}",
                  "≤ 1.2 (median CPU ms to the first full frame, board / bare table; the wall ratio is shown)",
                  cpu_ratio <= 1.2, {"cpu_ratio": cpu_ratio, "ratio": board_ms["median"] / bare_ms["median"],
                                     "board_ms": board_ms, "bare_ms": bare_ms, "board_cpu_ms": board_cpu,
                                     "bare_cpu_ms": bare_cpu})


def pty_idle_figure(cases: int, size: tuple[int, int], seconds: float) -> Figure:
    import pty_runs

    argv, ready, env = _pty_board(cases)
    run = pty_runs.idle(argv, ready, size, env, seconds)
    target = IDLE_TARGETS[cases]
    return Figure(f"pty_idle_cpu_{label(cases)}_{_size(size)}", f"< {target:g} % of one core (the casewatch process)",
                  run["cpu_percent"] < target, {**run, "seconds": seconds})


def pty_keys_figure(cases: int, size: tuple[int, int], presses: int) -> Figure:
    import pty_runs

    argv, ready, env = _pty_board(cases)
    run = pty_runs.keystrokes(argv, ready, size, env, presses)
    medians = {name: statistics.median(values) for name, values in run["timings_ms"].items()}
    return Figure(f"pty_key_to_frame_{label(cases)}_{_size(size)}",
                  f"< {KEY_TARGET_MS:g} ms (median, each of j, / and a letter typed after /)",
                  max(medians.values()) < KEY_TARGET_MS,
                  {"median_ms": medians, "max_ms": {name: max(v) for name, v in run["timings_ms"].items()},
                   "cpu_ms_per_key": run["cpu_ms_per_key"], "start_up_cpu_s": run["start_up_cpu_s"],
                   "presses": presses})


# ------------------------------------------------------------------------ ratio figures


def seed_ratio_figure(runs: int, cases: int) -> Figure:
    """`casewatch seed-demo` end to end against a raw sqlite3 program writing the same cases and
    events as JSON rows (tests/bench/sqlite_floor.py), alternating, each into a fresh file."""
    work = db.CACHE / f"seed-ratio-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    rows = work / "rows.json"
    seeds, floors = [], []
    try:
        for run in range(runs):
            for stale in work.glob("*.db*"):
                stale.unlink()
            seeds.append(command_run([casewatch_path(), "seed-demo", "--cases", str(cases), "--db", str(work / "seed.db"),
                                      "--as", "bench", "--now", db.NOW.isoformat()]))
            if run == 0:
                counts = _dump_rows(work / "seed.db", rows)
            floors.append(command_run([sys.executable, str(db.ROOT / "tests/bench/sqlite_floor.py"), str(rows),
                                       str(work / "floor.db")]))
    finally:
        for stale in work.glob("*"):
            stale.unlink()
        work.rmdir()
    seed_ms, floor_ms = spread([r[0] for r in seeds]), spread([r[0] for r in floors])
    seed_cpu, floor_cpu = spread([r[1] for r in seeds]), spread([r[1] for r in floors])
    cpu_ratio = seed_cpu["median"] / floor_cpu["median"]
    return Figure(f"seed_demo_{label(cases)}_vs_sqlite3", "≤ 12 (median CPU ms, whole commands; the wall ratio is shown)",
                  cpu_ratio <= 12, {"cpu_ratio": cpu_ratio, "ratio": seed_ms["median"] / floor_ms["median"],
                                    "seed_ms": seed_ms, "floor_ms": floor_ms, "seed_cpu_ms": seed_cpu,
                                    "floor_cpu_ms": floor_cpu, **counts})


def _dump_rows(path: Path, rows: Path) -> dict:
    """What seed-demo wrote (every case projection and every event, column by column) as JSON, for the floor."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        cases = [dict(row) for row in conn.execute("SELECT * FROM cases")]
        events = [dict(row) for row in conn.execute("SELECT * FROM events ORDER BY id")]
    rows.write_text(json.dumps({"cases": cases, "events": events}, default=str), encoding="utf-8")
    return {"cases": len(cases), "events": len(events)}


def cli_read_ratio_figure(runs: int) -> Figure:
    """`casewatch cases` on the 2k floor against importing the CLI and nothing else, alternating."""
    path = str(db.sqlite_floor(2_000))
    reads, imports = [], []
    for _ in range(runs):
        reads.append(command_run([casewatch_path(), "cases", "--db", path, "--as", "bench"]))
        imports.append(command_run([sys.executable, "-c", "import casewatch.cli.main"]))
    read_ms, import_ms = spread([r[0] for r in reads]), spread([r[0] for r in imports])
    read_cpu, import_cpu = spread([r[1] for r in reads]), spread([r[1] for r in imports])
    cpu_ratio = read_cpu["median"] / import_cpu["median"]
    return Figure("cases_2k_vs_import", "≤ 1.5 (median CPU ms, whole commands; the wall ratio is shown)",
                  cpu_ratio <= 1.5, {"cpu_ratio": cpu_ratio, "ratio": read_ms["median"] / import_ms["median"],
                                     "cases_ms": read_ms, "import_ms": import_ms, "cases_cpu_ms": read_cpu,
                                     "import_cpu_ms": import_cpu})


# -------------------------------------------------------------------- in-process figures
# The board run inside a child interpreter on a stand-in terminal (terminal.py), marked
# "measured": "in-process": not what a user's terminal gets, but the place to find causes.


def board_figures(cases: int, runs: int) -> list[Figure]:
    path = str(db.sqlite_floor(cases))
    boards, bares = [], []
    for _ in range(runs):  # alternate, so a busy moment hits both sides alike
        boards.append(child("board", path))
        bares.append(child("bare", path))
    board_ms, board_cpu = spread([b["ms"] for b in boards]), spread([b["cpu_ms"] for b in boards])
    bare_ms, bare_cpu = spread([b["ms"] for b in bares]), spread([b["cpu_ms"] for b in bares])
    ratio = board_ms["median"] / bare_ms["median"]
    ratios = [b["ms"] / a["ms"] for b, a in zip(boards, bares, strict=True)]
    figures = [Figure(f"board_vs_bare_{label(cases)}", "≤ 1.2 (median board ms / median bare-table ms)",
                      ratio <= 1.2, {"ratio": ratio, "paired_ratio": spread(ratios), "board_ms": board_ms,
                                     "bare_ms": bare_ms, "cpu_ratio": board_cpu["median"] / bare_cpu["median"],
                                     "board_cpu_ms": board_cpu, "bare_cpu_ms": bare_cpu, "rows": boards[0]["rows"]})]
    if cases == 2_000:
        figures.append(Figure("board_populated_2k", "< 500 ms (median)", board_ms["median"] < 500,
                              {"ms": board_ms, "cpu_ms": board_cpu}))
    if cases == 10_000:
        rss = spread([b["peak_rss_mb"] for b in boards])
        figures.append(Figure("board_peak_rss_10k", "< 200 MB (median)", rss["median"] < 200, {"mb": rss}))
    return figures


def filter_figure() -> Figure:
    """The `/` filter's language per keystroke on 10,000 open cases (core.case_filter: parse and match)."""
    run = child("filter", db.sqlite_floor(10_000))
    timings = run["timings_ms"]
    p95 = percentile(timings, 0.95)
    return Figure("filter_keystroke_10k", "p95 < 30 ms per keystroke (parse + match every case)", p95 < 30,
                  {"median_ms": statistics.median(timings), "p95_ms": p95, "max_ms": max(timings),
                   "keystrokes": len(timings), "cases": run["cases"], "last_shown": run["last_shown"]})


def tick_figure(cases: int, ticks: int) -> Figure:
    run = child("ticks", db.sqlite_floor(cases), ticks)
    timings = run["timings_ms"]
    median, p95 = statistics.median(timings), percentile(timings, 0.95)
    want_median, want_p95 = TICK_TARGETS[cases]
    return Figure(f"tick_{label(cases)}", f"median < {want_median:g} ms, p95 < {want_p95:g} ms",
                  median < want_median and p95 < want_p95,
                  {"median_ms": median, "p95_ms": p95, "max_ms": max(timings), "ticks": len(timings),
                   "cpu_median_ms": statistics.median(run["cpu_timings_ms"]),
                   "cpu_p95_ms": percentile(run["cpu_timings_ms"], 0.95), "rows": run["rows"]})


def idle_cpu_figure(seconds: float) -> Figure:
    run = child("idle", db.sqlite_floor(2_000), seconds)
    return Figure("idle_cpu_2k_sqlite", "< 2 % of one core", run["cpu_percent"] < 2,
                  {"cpu_percent": run["cpu_percent"], "seconds": seconds, "frames_per_s": run["frames_per_s"]})


def idle_pg_figure(seconds: float) -> Figure:
    """Server-side transaction counts of two idle boards, one `seconds` longer than the other:
    the difference is what idling costs, free of start-up. A transaction is at least one round trip."""
    from casewatch.storage.feed import POLL_S

    name = db.pg_floor(2_000)
    counts = []
    for idle_s in (2.0, 2.0 + seconds):
        before = db.pg_transactions(name)
        child("idle", db.pg_url(name), idle_s)
        time.sleep(1.5)  # let the server publish the closed backend's statistics
        counts.append(db.pg_transactions(name) - before)
    per_poll = (counts[1] - counts[0]) / (seconds / POLL_S)
    return Figure("idle_pg_2k_transactions_per_poll", "≤ 1 (server transactions per poll interval)",
                  per_poll <= 1, {"per_poll": per_poll, "seconds": seconds, "poll_seconds": POLL_S})


def seed_figures(runs: int, cases: int, backends: list[str]) -> list[Figure]:
    figures = []
    targets = {"sqlite": 1_500, "postgresql": 500}
    for backend in backends:
        rates, cpu_rates = [], []
        for _ in range(runs):
            if backend == "sqlite":
                db.CACHE.mkdir(parents=True, exist_ok=True)  # a fresh machine has no cache folder yet
                path = db.CACHE / f"seed-run-{os.getpid()}.db"
                for stale in db.CACHE.glob(path.name + "*"):
                    stale.unlink()
                run = child("seed", path, cases)
                for stale in db.CACHE.glob(path.name + "*"):
                    stale.unlink()
            else:
                name = db.pg_fresh()
                try:
                    run = child("seed", db.pg_url(name), cases)
                finally:
                    db.pg_drop(name)
            rates.append(run["cases_per_s"])
            cpu_rates.append(run["cases_per_cpu_s"])
        rate = spread(rates)
        figures.append(Figure(f"seed_demo_{backend}", f"≥ {targets[backend]:,} cases/s (median)",
                              rate["median"] >= targets[backend], {"cases_per_s": rate, "cases_per_cpu_s": spread(cpu_rates),
                                                                     "cases": cases}))
    return figures


def cases_json_figures(runs: int) -> list[Figure]:
    path = str(db.sqlite_floor(10_000))
    base = [str(Path(sys.executable).with_name("casewatch")), "cases", "--json", "--db", path, "--as", "bench"]
    plain, as_of = [], []
    for _ in range(runs):
        plain.append(command_run(base))
        as_of.append(command_run([*base, "--as-of", AS_OF.isoformat()]))
    plain_ms, as_of_ms = spread([r[0] for r in plain]), spread([r[0] for r in as_of])
    plain_cpu, as_of_cpu = spread([r[1] for r in plain]), spread([r[1] for r in as_of])
    plain_mb, as_of_mb = spread([r[2] for r in plain]), spread([r[2] for r in as_of])
    time_ratio = as_of_ms["median"] / plain_ms["median"]
    rss_ratio = as_of_mb["median"] / plain_mb["median"]
    return [
        Figure("cases_json_10k", "< 1000 ms (median, whole command)", plain_ms["median"] < 1000,
               {"ms": plain_ms, "cpu_ms": plain_cpu, "peak_rss_mb": plain_mb}),
        Figure("cases_json_as_of_10k", "≤ 1.5× the time and ≤ 1.3× the peak RSS of cases --json",
               time_ratio <= 1.5 and rss_ratio <= 1.3,
               {"time_ratio": time_ratio, "cpu_ratio": as_of_cpu["median"] / plain_cpu["median"],
                "rss_ratio": rss_ratio, "as_of": AS_OF.isoformat(), "ms": as_of_ms, "cpu_ms": as_of_cpu,
                "peak_rss_mb": as_of_mb}),
    ]


def verify_figure(runs: int) -> Figure:
    """`casewatch db verify` (the whole log replayed in memory and compared) on the 10k floor."""
    path = db.sqlite_floor(10_000)
    argv = [str(Path(sys.executable).with_name("casewatch")), "db", "verify", "--db", str(path), "--as", "bench"]
    done = [command_run(argv) for _ in range(runs)]
    ms, mb = spread([r[0] for r in done]), spread([r[2] for r in done])
    return Figure("db_verify_10k", "< 30000 ms and < 400 MB peak RSS (medians)", ms["median"] < 30_000 and mb["median"] < 400,
                  {"ms": ms, "cpu_ms": spread([r[1] for r in done]), "peak_rss_mb": mb,
                   "events": _count_events(path)})


HISTORY_CASES = 50_000


def metrics_figure(runs: int, cases: int) -> Figure:
    """`casewatch metrics --json` over a 90-day window of a long closed history, as a user runs it."""
    path = db.sqlite_history(cases)
    events = _count_events(path)
    argv = [str(Path(sys.executable).with_name("casewatch")), "metrics", "--json", "--db", str(path), "--as", "bench",
            "--since", (db.NOW - timedelta(days=90)).isoformat(), "--as-of", db.NOW.isoformat()]
    done = [command_run(argv) for _ in range(runs)]
    ms, mb = spread([r[0] for r in done]), spread([r[2] for r in done])
    return Figure(f"metrics_90_days_{label(cases)}", "< 3000 ms and < 300 MB peak RSS (medians)",
                  ms["median"] < 3000 and mb["median"] < 300,
                  {"ms": ms, "cpu_ms": spread([r[1] for r in done]), "peak_rss_mb": mb, "cases": cases,
                   "events": events})


IMPORT_ROWS = 20_000


def import_figure(runs: int, rows: int) -> Figure:
    """`casewatch import csv` of a Zendesk export into an empty SQLite database, as a user runs it
    (process start included): every row a new case, most with a status and an unmapped assignee
    (so a status change and a note besides each creation)."""
    work = db.CACHE / f"import-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    csv = work / "export.csv"
    priorities, statuses = ("urgent", "high", "normal", "low"), ("new", "open", "pending", "hold")
    csv.write_text("Id,Subject,Priority,Status,Organization,Assignee,Created at,Updated at\n" + "".join(
        f"{100000 + n},\"Checkout fails for region {n % 97}, again\",{priorities[n % 4]},{statuses[n % 4]},"
        f"Customer {n % 500},{'' if n % 3 == 0 else 7700000 + n % 40},"
        f"{(db.NOW - timedelta(minutes=n)).strftime('%Y-%m-%d %H:%M')},\n" for n in range(rows)), encoding="utf-8")
    (work / "config" / "casewatch").mkdir(parents=True, exist_ok=True)
    (work / "config" / "casewatch" / "config.toml").write_text('[sources.zd]\nkind = "zendesk"\n', encoding="utf-8")
    env = os.environ | {"XDG_CONFIG_HOME": str(work / "config"), "TZ": "UTC"}
    done = []
    for run in range(runs):
        path = work / f"run-{run}.db"
        for stale in work.glob(path.name + "*"):
            stale.unlink()
        done.append(command_run([str(Path(sys.executable).with_name("casewatch")), "import", "csv", str(csv),
                                 "--source", "zd", "--db", str(path), "--as", "bench"], env))
        for stale in work.glob(path.name + "*"):
            stale.unlink()
    rate, mb = spread([rows / (r[0] / 1000) for r in done]), spread([r[2] for r in done])
    return Figure(f"import_csv_{label(rows)}_sqlite", "≥ 1,000 rows/s and < 300 MB peak RSS (medians, whole command)",
                  rate["median"] >= 1000 and mb["median"] < 300,
                  {"rows_per_s": rate, "rows_per_cpu_s": spread([rows / (r[1] / 1000) for r in done]),
                   "ms": spread([r[0] for r in done]), "cpu_ms": spread([r[1] for r in done]),
                   "peak_rss_mb": mb, "rows": rows})


SYNC_TICKETS, SYNC_PAGES = 10_000, 10


def _zendesk_pages(tickets: int, pages: int) -> dict[str, bytes]:
    """The cursor export's pages, by the cursor that asks for each ("start" the first)."""
    per = tickets // pages
    priorities, statuses = ("urgent", "high", "normal", "low"), ("new", "open", "pending", "hold")
    served = {}
    for page in range(pages):
        rows = [{"id": 200000 + n, "subject": f"Checkout fails for region {n % 97}, again",
                 "priority": priorities[n % 4], "status": statuses[n % 4], "assignee_id": 500 + n % 40,
                 "organization_id": 900 + n % 50, "tags": ["escalated"], "created_at": "2026-11-20T09:00:00Z",
                 "updated_at": (db.NOW - timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")}
                for n in range(page * per, (page + 1) * per)]
        served["start" if page == 0 else f"c{page}"] = json.dumps({
            "tickets": rows, "after_cursor": f"c{page + 1}", "end_of_stream": page == pages - 1,
            "users": [{"id": 500 + n, "email": f"agent{n}@acme.com"} for n in range(40)],
            "organizations": [{"id": 900 + n, "name": f"Customer {n}"} for n in range(50)]}).encode()
    served[f"c{pages}"] = json.dumps({"tickets": [], "after_cursor": f"c{pages}", "end_of_stream": True}).encode()
    return served


def sync_figures(runs: int, tickets: int, pages: int) -> list[Figure]:
    """`casewatch sync` of a Zendesk export (10 pages of 1,000 escalated tickets) from a server on
    127.0.0.1 into an empty SQLite database, as a user runs it (process start included); then the
    CPU of an idle `--follow` pass (nothing new) on the synced database."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    served = _zendesk_pages(tickets, pages)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            cursor = parse_qs(urlsplit(self.path).query).get("cursor", ["start"])[0]
            body = served[cursor]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = db.CACHE / f"sync-{os.getpid()}"
    (work / "config" / "casewatch").mkdir(parents=True, exist_ok=True)
    (work / "config" / "casewatch" / "config.toml").write_text(
        f'[sources.zd]\nkind = "zendesk"\nurl = "http://127.0.0.1:{server.server_port}"\n'
        'email = "bench@acme.com"\ntoken_env = "BENCH_ZD_TOKEN"\n', encoding="utf-8")
    env = os.environ | {"XDG_CONFIG_HOME": str(work / "config"), "TZ": "UTC", "BENCH_ZD_TOKEN": "t"}
    done = []
    try:
        for run in range(runs):
            path = work / f"run-{run}.db"
            for stale in work.glob(path.name + "*"):
                stale.unlink()
            done.append(command_run([str(Path(sys.executable).with_name("casewatch")), "sync", "--db", str(path),
                                     "--as", "bench"], env))
            if run == runs - 1:
                idle = child("sync_idle", path, f"http://127.0.0.1:{server.server_port}", 10)
            for stale in work.glob(path.name + "*"):
                stale.unlink()
    finally:
        server.shutdown()
    seconds, mb = spread([r[0] / 1000 for r in done]), spread([r[2] for r in done])
    return [Figure(f"sync_zendesk_{label(tickets)}_sqlite", "< 15 s and < 300 MB peak RSS (medians, whole command)",
                   seconds["median"] < 15 and mb["median"] < 300,
                   {"s": seconds, "cpu_ms": spread([r[1] for r in done]), "peak_rss_mb": mb,
                    "tickets_per_s": spread([tickets / (r[0] / 1000) for r in done]), "tickets": tickets,
                    "pages": pages}),
            Figure("sync_idle_pass_sqlite", "< 100 ms of CPU per --follow pass with nothing new (median)",
                   idle["cpu_ms_median"] < 100, idle)]


def _count_events(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ARGS"), help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", default=[], metavar="WORD",
                        help="only figures whose name contains one of these words")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--ticks", type=int, default=150, help="ticks per size (default 150)")
    parser.add_argument("--idle-seconds", type=float, default=30, help="idle window (default 30)")
    parser.add_argument("--presses", type=int, default=15, help="presses of each key in the pty (default 15)")
    parser.add_argument("--seed-cases", type=int, default=SEED_CASES, help="cases per seeding run")
    parser.add_argument("--history-cases", type=int, default=HISTORY_CASES,
                        help="closed escalations in the metrics history (default 50,000: about a million events)")
    args = parser.parse_args()
    if args.child:
        kind, child_args = args.child
        print(json.dumps(run_child(kind, json.loads(child_args))))
        return 0

    def wanted(*names: str) -> bool:
        return not args.only or any(word in name for name in names for word in args.only)

    installed_bytecode()

    pty: list[tuple[tuple[str, ...], Callable[[], list[Figure]]]] = []
    for cases in SIZES:
        k = label(cases)
        for size in TERMINALS:
            pty.append(((f"pty_idle_cpu_{k}_{_size(size)}",),
                        lambda cases=cases, size=size: [pty_idle_figure(cases, size, args.idle_seconds)]))
        pty.append(((f"pty_first_frame_{k}_200x50",),
                    lambda cases=cases: [pty_first_frame_figure(cases, TERMINALS[1], args.runs)]))
    pty.append((("pty_key_to_frame_10k_200x50",), lambda: [pty_keys_figure(10_000, TERMINALS[1], args.presses)]))
    ratios: list[tuple[tuple[str, ...], Callable[[], list[Figure]]]] = [
        (("seed_demo_2k_vs_sqlite3",), lambda: [seed_ratio_figure(args.runs, 2_000)]),
        (("cases_2k_vs_import",), lambda: [cli_read_ratio_figure(args.runs)]),
    ]
    steps: list[tuple[tuple[str, ...], Callable[[], list[Figure]]]] = []
    for cases in SIZES:
        k = label(cases)
        steps.append(((f"board_vs_bare_{k}", f"board_populated_{k}", f"board_peak_rss_{k}"),
                      lambda cases=cases: board_figures(cases, args.runs)))
        steps.append(((f"tick_{k}",), lambda cases=cases: [tick_figure(cases, args.ticks)]))
    steps += [
        (("idle_cpu_2k_sqlite",), lambda: [idle_cpu_figure(args.idle_seconds)]),
        (("idle_pg_2k_transactions_per_poll",), lambda: [idle_pg_figure(args.idle_seconds)]),
        (("seed_demo_sqlite", "seed_demo_postgresql"),
         lambda: seed_figures(args.runs, args.seed_cases,
                              [b for b in ("sqlite", "postgresql") if wanted(f"seed_demo_{b}")])),
    ]
    commands: list[tuple[tuple[str, ...], Callable[[], list[Figure]]]] = [
        (("cases_json_10k", "cases_json_as_of_10k"), lambda: cases_json_figures(args.runs)),
        (("filter_keystroke_10k",), lambda: [filter_figure()]),
        (("db_verify_10k",), lambda: [verify_figure(args.runs)]),
        ((f"import_csv_{label(IMPORT_ROWS)}_sqlite",), lambda: [import_figure(args.runs, IMPORT_ROWS)]),
        ((f"sync_zendesk_{label(SYNC_TICKETS)}_sqlite", "sync_idle_pass_sqlite"),
         lambda: sync_figures(args.runs, SYNC_TICKETS, SYNC_PAGES)),
        ((f"metrics_90_days_{label(args.history_cases)}",), lambda: [metrics_figure(args.runs, args.history_cases)]),
    ]
    missed = 0
    print(json.dumps({"started": datetime.now().astimezone().isoformat(timespec="seconds"),
                      "load_average": os.getloadavg(), "cpus": os.cpu_count()}), flush=True)
    for measured, group in (("pty", pty), ("commands", ratios), ("in-process", steps), ("commands", commands)):
        for names, measure in group:
            if not wanted(*names):
                continue
            for figure in measure():
                figure.measured = measured
                print(figure.line(), flush=True)
                missed += not figure.ok
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
