"""What one child process measures of the Textual side: the board, the fair bare table, ticks, idle.

Every run renders to terminal bytes through `TerminalBytes`, at the same size, after the same
imports; the clock is `NOW` unless the run needs real time. Each function returns a flat dict.
"""

from __future__ import annotations

import asyncio
import resource
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from terminal import SIZE, TerminalBytes

from casewatch.storage.target import resolve_target

SETTLE_S = 0.05  # longer than one frame period, so the next tick starts from an idle screen


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.001)


async def _first_frame_after(condition, started: float) -> float:
    """Milliseconds from `started` to the first frame written once `condition` holds."""
    await _until(condition)
    await TerminalBytes.next_frame(TerminalBytes.frames)
    return (TerminalBytes.last_frame_at - started) * 1000


def _cpu_ms(since: float) -> float:
    """Process CPU milliseconds (all threads) since `since`: what the figure costs when the
    machine is busy and wall time also counts waiting for a core."""
    return (time.process_time() - since) * 1000


def _board_app(location: str, clock, live: bool):
    from casewatch.tui.app import CasewatchApp  # imported before any timing starts: see `board`

    app = CasewatchApp(resolve_target(location), "bench", clock=clock, live=live)
    app.driver_class = TerminalBytes
    return app


def _board_ready(app) -> bool:
    from casewatch.tui.screens.board import BoardScreen
    from casewatch.tui.widgets.case_table import CaseTable

    return (isinstance(app.screen, BoardScreen) and app.state is not None
            and sum(t.row_count for t in app.screen.query(CaseTable)) == len(app.state.cases))


def board(location: str, now: datetime) -> dict:
    """App start to the first frame of a populated board; the process's peak RSS after it."""
    import casewatch.tui.app  # noqa: F401 - like the bare table, every import is done before the clock starts

    result: dict = {}

    async def run() -> None:
        started, cpu = time.perf_counter(), time.process_time()
        app = _board_app(location, lambda: now, live=False)
        async with app.run_test(headless=False, size=SIZE):
            result["ms"] = await _first_frame_after(lambda: _board_ready(app), started)
            result["cpu_ms"] = _cpu_ms(cpu)
            result["rows"] = len(app.state.cases)

    asyncio.run(run())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def bare_app(location: str, now: datetime, width: int = SIZE[0], announce: bool = False):
    """The same rows as the same Text cells in one plain DataTable, with the board's treatment:
    the console size pinned, the collector paused and frozen around the bulk load, the clock
    labels computed by the same core clock code. What it lacks is the board itself: panes,
    ordering, titles, the per-row countdown cache. `announce`: a line under the table says "N rows"
    once they are in (what a reader of the terminal's output can wait for)."""
    from textual.app import App
    from textual.widgets import DataTable, Static

    from casewatch.bulk_load import bulk_allocation
    from casewatch.core.clocks import plan_clocks
    from casewatch.core.evidence import case_readiness
    from casewatch.core.views import case_flags, is_unowned
    from casewatch.storage.store import Store
    from casewatch.themes import DEFAULT_THEME, THEMES
    from casewatch.tui.widgets import cells
    from casewatch.tui.widgets.board_layout import CLOCKS, choose_layout, column_width

    layout = choose_layout(width)

    class Bare(App):
        rows = -1

        def on_mount(self) -> None:
            self.console.size = (self.size.width, self.size.height)
            self.run_worker(self.load())

        def on_resize(self) -> None:
            self.console.size = (self.size.width, self.size.height)

        async def load(self) -> None:
            for definition in THEMES.values():
                self.register_theme(definition)
            self.theme = DEFAULT_THEME
            variables = self.get_css_variables()
            palette = {name: variables.get(name, "") for name in THEMES[DEFAULT_THEME].variables}
            async with await Store.open(resolve_target(location), clock=lambda: now) as store:
                policy = await store.policy()
                with bulk_allocation(freeze=True):  # the board: paused over load and build, then frozen
                    found = await store.open_cases()
                    table = DataTable()
                    await self.mount(table)
                    for column in layout.columns:
                        table.add_column(column.label, key=column.key, width=column_width(column, layout))
                    for case in found:
                        table.add_row(*_cells(case, policy, palette), key=case.id)
                    if announce:
                        line = Static(f"{len(found)} rows")
                        line.styles.dock = "bottom"  # on screen under a table taller than the terminal
                        await self.mount(line)
            self.rows = len(found)

    def _cells(case, policy, palette):
        readings = plan_clocks(case, policy).read(now)
        zone = ZoneInfo("Europe/Berlin") if layout.show_due else None  # the viewer's zone, as the board
        values = {
            "id": cells.plain(case.id), "sev": cells.severity_cell(case.severity, palette),
            "flags": cells.flag_cell(len(case_flags(case, policy)), palette),
            "title": cells.plain(case.title), "customer": cells.plain(case.customer),
            "status": cells.status_cell(case.status), "route": cells.plain(case.route),
            "owner": cells.person_cell(case.internal_owner, palette),
            "comms": cells.person_cell(case.comms_owner, palette),
            "unowned": cells.unowned_cell(is_unowned(case), palette),
            **{key: cells.clock_cell(cells.countdown_label(r.state, r.remaining_s, cells.due_suffix(r.due, zone, now),
                                                           compact=True), r.state, palette)
               for key, r in zip(CLOCKS, readings.values(), strict=True)},
            "evidence": cells.readiness_cell(case_readiness(case, policy.evidence), case.returned is not None, palette),
        }
        return [values[key] for key in layout.keys]

    return Bare()


def bare(location: str, now: datetime) -> dict:
    """The fair floor of `board`, in process: `bare_app` from app start to its first frame with every row."""
    from textual.widgets import DataTable

    result: dict = {}

    async def run() -> None:
        started, cpu = time.perf_counter(), time.process_time()
        app = bare_app(location, now)
        app.driver_class = TerminalBytes
        async with app.run_test(headless=False, size=SIZE):
            result["ms"] = await _first_frame_after(
                lambda: app.rows >= 0 and app.query_one(DataTable).row_count == app.rows, started)
            result["cpu_ms"] = _cpu_ms(cpu)
            result["rows"] = app.rows

    asyncio.run(run())
    return result


def ticks(location: str, now: datetime, count: int) -> dict:
    """`count` one-second ticks as the app runs them: posted through the message queue by the
    app's own tick, timed until the frame they cause is written. The clock moves one second per
    tick, so minute edges (where many countdowns change) come up as they would."""
    result: dict = {}
    clock = [now]

    async def run() -> None:
        app = _board_app(location, lambda: clock[0], live=False)
        async with app.run_test(headless=False, size=SIZE):
            await _first_frame_after(lambda: _board_ready(app), time.perf_counter())
            timings, cpu_timings = [], []
            for second in range(1, count + 1):
                await asyncio.sleep(SETTLE_S)
                clock[0] = now + timedelta(seconds=second)
                frames = TerminalBytes.frames
                started, cpu = time.perf_counter(), time.process_time()
                app.tick(clock[0])  # what the app's one-second interval calls
                await TerminalBytes.next_frame(frames)
                timings.append((TerminalBytes.last_frame_at - started) * 1000)
                cpu_timings.append(_cpu_ms(cpu))
            result["timings_ms"] = timings
            result["cpu_timings_ms"] = cpu_timings
            result["rows"] = len(app.state.cases)

    asyncio.run(run())
    return result


def idle(location: str, now: datetime, seconds: float) -> dict:
    """A live board (real timers, a clock moving in real time) left alone for `seconds`:
    the CPU it used, all threads, as a share of one core."""
    result: dict = {}
    origin = time.monotonic()

    async def run() -> None:
        app = _board_app(location, lambda: now + timedelta(seconds=time.monotonic() - origin), live=True)
        async with app.run_test(headless=False, size=SIZE):
            await _first_frame_after(lambda: _board_ready(app), time.perf_counter())
            await asyncio.sleep(2)  # start-up work (first poll, first frames) is not idle
            cpu, wall, frames = time.process_time(), time.monotonic(), TerminalBytes.frames
            await asyncio.sleep(seconds)
            result["cpu_percent"] = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
            result["frames_per_s"] = (TerminalBytes.frames - frames) / (time.monotonic() - wall)
            result["rows"] = len(app.state.cases)

    asyncio.run(run())
    return result
