# ruff: noqa: F811 - `team` is the team-mode tests' fixture, shared from test_team_mode
"""A member (bob, an agent) NOTIFYs the boards' channel with raw SQL through his own login: tens of
thousands of case names, numbers past the float range, payloads nested 3,000 deep. A board stays
live (before, it showed "reconnecting… (the number of query arguments cannot exceed 32767)" and
asyncio logged OverflowError and RecursionError tracebacks), and still follows real changes."""

from __future__ import annotations

import asyncio

from casewatch.core import commands as c
from casewatch.storage.feed import FeedState
from casewatch.storage.store import Store
from casewatch.storage.target import resolve_target
from tests.team.boards import HeadlessBoard
from tests.team.test_attacks import new_case
from tests.team.test_team_mode import team  # noqa: F401 - the fixture

SPAM = (
    "SELECT count(pg_notify('casewatch', json_build_object('case', 'CW-X' || g, 'version', 1, 'open', true)::text)) "
    "FROM generate_series(1, 40000) g",
    "SELECT count(pg_notify('casewatch', json_build_object('case', 'CW-' || (100000 + g), 'version', 1, "
    "'open', true)::text)) FROM generate_series(1, 40000) g",
    "NOTIFY casewatch, '{\"case\": \"CW-1001\", \"version\": 1e400}'",
    "NOTIFY casewatch, '{\"case\": \"CW-1001\", \"version\": 1e400, \"open\": true}'",
    "NOTIFY casewatch, '{\"case\": [\"CW-1001\"], \"version\": 2, \"open\": true}'",
    "NOTIFY casewatch, '{\"table\": {\"a\": 1}}'",
    "NOTIFY casewatch, '[1, 2]'",
    "SELECT pg_notify('casewatch', repeat('[', 3000))",
    "SELECT pg_notify('casewatch', '{\"case\": ' || repeat('[', 3000))",
)


def test_notification_spam_and_garbage_leave_a_board_live_and_following(team, capsys):
    case_id = new_case(team, capsys, "bob", "SEV3")

    async def board() -> None:
        failures: list[dict] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: failures.append(context))
        watcher = HeadlessBoard(await Store.open(resolve_target(team.url("alice"))))
        await watcher.start()
        try:
            assert await watcher.until(lambda: watcher.live, 10), watcher.feed.status
            for _ in range(2):  # a second flood too: the board must not flap
                for statement in SPAM:
                    await asyncio.to_thread(team.sql, "bob", statement)
            async with await Store.open(resolve_target(team.url("bob"))) as writer:
                outcome = await writer.execute(c.Note(case_id=case_id, text="after the flood"), "bob")
                assert await writer.cases_by_id({f"CW-{n}" for n in range(100000, 140000)}) == []
            assert await watcher.until(lambda: watcher.versions().get(case_id) == outcome.changed_case.version, 5)
            await asyncio.sleep(0.5)
            assert watcher.live and FeedState.RECONNECTING not in watcher.states, watcher.states
            assert set(watcher.cases) == {case_id}
            assert failures == [], failures
        finally:
            await watcher.close()

    asyncio.run(board())
