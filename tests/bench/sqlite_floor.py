"""The raw sqlite3 floor of `casewatch seed-demo`: the same cases and events, written as JSON rows
by the standard library alone (100 cases a transaction, WAL, synchronous=normal), process start
included. The rows are what a seed-demo run wrote (bench.py dumps them); reading them is part of it.

    python tests/bench/sqlite_floor.py ROWS.json DATABASE
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import defaultdict

CASES_A_TRANSACTION = 100


def write(rows: dict, path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE cases (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, case_id TEXT, body TEXT NOT NULL)")
    events = defaultdict(list)
    for event in rows["events"]:
        events[event.get("case_id")].append(event)
    cases = rows["cases"]
    conn.execute("BEGIN")  # what belongs to no case: people, the policy
    conn.executemany("INSERT INTO events (case_id, body) VALUES (?, ?)",
                     [(None, json.dumps(event)) for event in events.pop(None, [])])
    conn.execute("COMMIT")
    for start in range(0, len(cases), CASES_A_TRANSACTION):
        conn.execute("BEGIN")
        for case in cases[start:start + CASES_A_TRANSACTION]:
            conn.executemany("INSERT INTO events (case_id, body) VALUES (?, ?)",
                             [(case["id"], json.dumps(event)) for event in events.pop(case["id"], [])])
            conn.execute("INSERT INTO cases (id, body) VALUES (?, ?)", (case["id"], json.dumps(case)))
        conn.execute("COMMIT")
    conn.close()


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        write(json.load(file), sys.argv[2])
