"""Benchmarks for the board (run: ./dev bench). Prints one JSON document.

For 2,000 and 10,000 open cases: time from app start to a populated board, the same for a bare
Textual DataTable fed the same rows (and the ratio), the cost of one 1 s tick on the main thread,
the wall time of `casewatch cases --json`, peak RSS, and evaluating all three clocks for every case.
Each figure that involves the app runs in its own process, so peak RSS is that run's alone; the
board and the bare table run three times each and the median run is reported. Seeded databases
are cached in /tmp/casewatch-bench.

Targets: at 2,000 board < 500 ms and <= 1.5x the bare table, tick < 15 ms; at 10,000 RSS < 250 MB
and clocks < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZES = (2_000, 10_000)
SEED = 11
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
BENCH_DIR = Path("/tmp/casewatch-bench")
ROOT = Path(__file__).resolve().parents[2]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(path: Path, cases: int) -> float:
    from casewatch.core.demo import demo_plan
    from casewatch.core.models import Person, Role
    from casewatch.storage.seed import write_demo
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    started = time.perf_counter()
    async with await Store.open(resolve_target(path), clock=lambda: NOW, creator=Person(name="bench", role=Role.LEAD)) as store:
        await write_demo(store, demo_plan(cases, SEED, NOW, open_only=True), "bench")
    return time.perf_counter() - started


def database(cases: int) -> tuple[Path, float | None]:
    BENCH_DIR.mkdir(exist_ok=True)
    path = BENCH_DIR / f"open-{cases}-seed{SEED}.db"
    if path.exists():
        return path, None
    partial = path.with_suffix(".partial")
    for stale in BENCH_DIR.glob(partial.name + "*"):
        stale.unlink()
    seconds = asyncio.run(seed(partial, cases))
    partial.rename(path)
    return path, seconds


# ----------------------------------------------------------------- measured in a child process


def measure_board(path: str) -> dict:
    from casewatch.storage.target import resolve_target
    from casewatch.tui.app import CasewatchApp
    from casewatch.tui.messages import ClockTick
    from casewatch.tui.screens.board import BoardScreen
    from casewatch.tui.widgets.case_table import CaseTable

    result = {}

    async def run() -> None:
        started = time.perf_counter()
        app = CasewatchApp(resolve_target(path), "bench", clock=lambda: NOW, live=False)
        async with app.run_test(size=(200, 60)) as pilot:
            while not (isinstance(app.screen, BoardScreen)
                       and sum(t.row_count for t in app.screen.query(CaseTable)) == len(app.state.cases)):
                await pilot.pause()
            result["board_populated_ms"] = (time.perf_counter() - started) * 1000
            result["open_cases"] = len(app.state.cases)
            ticks = []
            for second in range(1, 121):  # two minutes of ticks: most change nothing, minute edges change many
                t0 = time.perf_counter()
                app.screen._on_tick(ClockTick(NOW + timedelta(seconds=second)))
                ticks.append((time.perf_counter() - t0) * 1000)
            result["tick_ms_median"] = statistics.median(ticks)
            result["tick_ms_p95"] = sorted(ticks)[int(len(ticks) * 0.95)]
            result["tick_ms_max"] = max(ticks)
    asyncio.run(run())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def measure_bare(path: str) -> dict:
    from textual.app import App
    from textual.widgets import DataTable

    from casewatch.core.evidence import case_readiness
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target
    from casewatch.tui.widgets.board_layout import choose_layout, column_width

    layout = choose_layout(200)

    class Bare(App):
        async def on_mount(self) -> None:
            self.store = await Store.open(resolve_target(path), clock=lambda: NOW)
            cases = await self.store.open_cases()
            items = (await self.store.policy()).evidence
            table = DataTable()
            await self.mount(table)
            for column in layout.columns:
                table.add_column(column.label, key=column.key, width=column_width(column, layout))
            for case in cases:
                table.add_row(case.id, case.severity.value, "", case.title, case.customer, case.status.value,
                              case.route, case.internal_owner or "", case.comms_owner or "", "", "",
                              str(case_readiness(case, items)), key=case.id)
            self.rows = len(cases)
            await self.store.close()

    result = {}

    async def run() -> None:
        started = time.perf_counter()
        app = Bare()
        async with app.run_test(size=(200, 60)) as pilot:
            while not app.query(DataTable) or app.query_one(DataTable).row_count < getattr(app, "rows", 1):
                await pilot.pause()
            result["bare_table_populated_ms"] = (time.perf_counter() - started) * 1000
    asyncio.run(run())
    return result


def measure_clocks(path: str) -> dict:
    from casewatch.core.clocks import plan_clocks
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    async def load():
        async with await Store.open(resolve_target(path), clock=lambda: NOW) as store:
            return await store.open_cases(), await store.policy()

    cases, policy = asyncio.run(load())
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        for case in cases:
            plan_clocks(case, policy).read(NOW)
        runs.append((time.perf_counter() - t0) * 1000)
    return {"clocks_all_cases_ms": min(runs), "clocks_cases": len(cases)}


def child(kind: str, path: Path, repeat: int = 1) -> dict:
    """Run one measurement in fresh processes; with `repeat`, the run with the median first figure."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    runs.sort(key=lambda run: next(iter(run.values())))
    return runs[len(runs) // 2]


def cases_json_ms(path: Path) -> tuple[float, float]:
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("casewatch")), "cases", "--json", "--db", str(path),
                        "--as", "bench"], check=True, capture_output=True)
        runs.append((time.perf_counter() - t0) * 1000)
    return min(runs), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("KIND", "DB"))
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        print(json.dumps({"board": measure_board, "bare": measure_bare, "clocks": measure_clocks}[kind](path)))
        return
    report = {}
    for cases in args.sizes:
        path, seeded_s = database(cases)
        board = child("board", path, repeat=3)
        bare = child("bare", path, repeat=3)
        figures = {
            **board, **bare,
            "board_vs_bare_ratio": board["board_populated_ms"] / bare["bare_table_populated_ms"],
            **child("clocks", path),
        }
        figures["cases_json_ms"], _ = cases_json_ms(path)
        if seeded_s is not None:
            figures["seed_s"] = seeded_s
        report[str(cases)] = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
