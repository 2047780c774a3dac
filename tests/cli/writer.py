"""A writer process for the reliability tests: runs CLI actions and acknowledges each success.

Usage: python -m tests.cli.writer DB WORKER COUNT CASE[,CASE...] [store-notes], or `main` with those
arguments in a process forked with casewatch imported (tests.forked), as the reliability tests run it.
("store-notes": notes through one open Store, as a long-running writer such as the board or a bot.)
Prints "ok <marker>" (flushed) after each action the CLI reported as done, "fail <code>" otherwise.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence

from casewatch.cli import main as cli


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
            code = cli.main([*args, "--db", db, "--as", "lead"])
        if code == 0:
            print(f"ok {marker}", flush=True)
        else:
            print(f"fail {code} {err.getvalue().strip()}", flush=True)


def main(argv: Sequence[str]) -> None:
    """DB WORKER COUNT CASE[,CASE...] [store-notes]"""
    if list(argv[4:]) == ["store-notes"]:
        store_notes(argv[0], int(argv[1]), int(argv[2]), argv[3])
    else:
        run(argv[0], int(argv[1]), int(argv[2]), argv[3].split(","))


if __name__ == "__main__":
    main(sys.argv[1:])
