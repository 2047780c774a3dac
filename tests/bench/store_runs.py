"""What one child process measures of the storage side."""

from __future__ import annotations

import asyncio

import databases as db


def seed(location: str, cases: int) -> dict:
    """`seed-demo`'s write path on an empty database: a full demo floor (resolved cases too)."""
    seconds, cpu = asyncio.run(db.seed(location, cases, open_only=False))
    return {"cases_per_s": cases / seconds, "cases_per_cpu_s": cases / cpu}


def sync_idle(location: str, url: str, passes: int) -> dict:
    """CPU of a `--follow` pass with nothing new: the store open, one page of no tickets read."""
    import os
    import statistics
    import time

    from casewatch.cli.sync_command import LiveSource, sync_pass
    from casewatch.core.tracker import Source, SourceSettings
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    os.environ["BENCH_ZD_TOKEN"] = "t"
    settings = SourceSettings(kind="zendesk", url=url, email="bench@acme.com", token_env="BENCH_ZD_TOKEN")
    live = LiveSource(Source.of("zd", settings), settings)

    async def run() -> list[float]:
        async with await Store.open(resolve_target(location)) as store:
            roster = await store.roster()
            spent = []
            for _ in range(passes + 1):
                started = time.process_time()
                report = await sync_pass(store, live, "bench", roster)
                assert report.new == 0 and report.pages == 1, report
                spent.append((time.process_time() - started) * 1000)
            return spent[1:]  # the first warms the connection and the imports

    spent = asyncio.run(run())
    return {"cpu_ms_median": statistics.median(spent), "cpu_ms_max": max(spent)}


TYPED = "sev:1,2 owner:none is:breached acme"  # typed a character at a time


def filter_keystrokes(location: str) -> dict:
    """The filter language per keystroke on the 10k floor's open cases (as the board holds them):
    each prefix of `TYPED` parsed once and matched against every case. A prefix the parser refuses
    (`sev:` before its value) costs its parse only, as the board keeps its filter then."""
    import time

    from casewatch.core.case_filter import Seen, parse_filter
    from casewatch.core.errors import CasewatchError
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    async def cases():
        async with await Store.open(resolve_target(location), clock=lambda: db.NOW) as store:
            return await store.open_cases(), await store.policy()

    found, policy = asyncio.run(cases())
    from casewatch.core.clocks import plan_clocks

    seen = Seen("dana", db.NOW, {case.id: plan_clocks(case, policy) for case in found})
    timings, shown = [], 0
    for end in range(1, len(TYPED) + 1):
        started = time.perf_counter()
        try:
            chosen = parse_filter(TYPED[:end])
        except CasewatchError:
            timings.append((time.perf_counter() - started) * 1000)
            continue
        shown = sum(chosen.matches(case, seen) for case in found)
        timings.append((time.perf_counter() - started) * 1000)
    return {"timings_ms": timings, "cases": len(found), "last_shown": shown}
