"""A writer process for the reliability tests: runs CLI actions and acknowledges each success.

Usage: python -m tests.cli.writer DB WORKER COUNT CASE[,CASE...] [notes | store-notes]
("store-notes": notes through one open Store, as a long-running writer such as the board or a bot.)
Prints "ok <marker>" (flushed) after each action the CLI reported as done, "fail <code>" otherwise.
"""

from __future__ import annotations

import contextlib
import io
import sys

from casewatch.cli.main import main


def actions(worker: int, count: int, cases: list[str]):
    for n in range(count):
        case = cases[(worker + n) % len(cases)]
        marker = f"w{worker}-{n}"
        kind = n % 5
        if kind == 3:
            yield marker, ["case", "review", case, "--notes", marker]
        elif kind == 4:
            yield marker, ["case", "update", case, "--known", marker, "--investigating", "i", "--next-milestone", "m"]
        else:
            yield marker, ["case", "note", case, marker]


def store_notes(db: str, worker: int, count: int, case: str) -> None:
    import asyncio

    from casewatch.core import commands as c
    from casewatch.core.errors import CasewatchError
    from casewatch.storage.store import Store
    from casewatch.storage.target import resolve_target

    async def write() -> None:
        async with await Store.open(resolve_target(db)) as store:
            for n in range(count):
                marker = f"w{worker}-{n}"
                try:
                    await store.execute(c.Note(case_id=case, text=marker), "lead")
                    print(f"ok {marker}", flush=True)
                except CasewatchError as exc:
                    print(f"fail {exc.exit_code} {exc}", flush=True)

    asyncio.run(write())


def run(db: str, worker: int, count: int, cases: list[str]) -> None:
    for marker, args in actions(worker, count, cases):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main([*args, "--db", db, "--as", "lead"])
        if code == 0:
            print(f"ok {marker}", flush=True)
        else:
            print(f"fail {code} {err.getvalue().strip()}", flush=True)


if __name__ == "__main__":
    if sys.argv[5:] == ["store-notes"]:
        store_notes(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(","))
