"""`casewatch deliver` end to end on a real SQLite file against a Zendesk on 127.0.0.1: the update
logged with `case update` reaches the ticket once and `case show` says so (and an owner named with
`case assign` becomes the ticket's assignee); the exit codes of a
tracker that is down (4), a ticket that refuses (2, then `--retry`) and a bad write_back table (2);
no token in any message; and a deliver SIGKILLed while the tracker holds its send, run again,
posting exactly once; under --follow, a row deleted while it runs queued again from the log."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading

import pytest

from casewatch import paths
from tests.sources.trackers import Comments, Tracker, status, zd_page, zd_ticket

TOKEN = "s3cr3t-zd-token-value"
CONFIG = """\
[sources.zd]
kind = "zendesk"
url = "{url}"
email = "lead@acme.com"
token_env = "CASEWATCH_ZD_TOKEN"
[sources.zd.write_back]
customer_updates = {on}
"""
UPDATE = ("case", "update", "CW-1001", "--known", "Payments fail", "--investigating", "the gateway",
          "--next-milestone", "a fix on staging")


def write_config(text: str) -> None:
    config = paths.config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def floor(httpserver, run_cli, monkeypatch):
    """A case linked to Zendesk ticket 1 (synced), its source writing updates back; (run_cli, comments)."""
    tracker = Tracker(httpserver).serve_zendesk()
    tracker.pages = {"start": zd_page([zd_ticket(1)], "c1", end=True), "c1": zd_page([], "c1", end=True)}
    comments = Comments(httpserver).serve()
    write_config(CONFIG.format(url=tracker.url, on="true"))
    monkeypatch.setenv("CASEWATCH_ZD_TOKEN", TOKEN)
    assert run_cli("sync")[0] == 0
    return run_cli, comments


def test_an_update_reaches_the_ticket_once_and_case_show_says_so(floor):
    run_cli, comments = floor
    assert run_cli(*UPDATE)[0] == 0
    assert run_cli("deliver") == (0, "1 sent\n", "")
    assert run_cli("deliver") == (0, "nothing to deliver\n", "")
    [comment] = comments.posted["1"]
    assert comment["public"] is True and comment["body"].startswith("What we know: Payments fail\n")
    assert re.search(r"\n\n— sent from casewatch \(ref CW-1001/\d+\)$", comment["body"])
    code, out, _ = run_cli("case", "show", "CW-1001")
    assert code == 0 and re.search(r"\n {30}delivery to zd ticket 1: sent \d\d:\d\d \(comment 98765\)\n", out)
    shown = json.loads(run_cli("case", "show", "CW-1001", "--json")[1])
    [delivered] = [event["delivery"] for event in shown["timeline"] if "delivery" in event]
    assert (delivered["state"], delivered["comment_id"], delivered["ticket"]) == ("sent", "98765", "1")


def test_a_tracker_down_exits_4_and_a_refusing_ticket_2_until_retried(floor, monkeypatch):
    run_cli, comments = floor
    monkeypatch.setattr("casewatch.cli.deliver_command.WAITS", (0.0, 0.0))  # the pass's short waits, not slept
    assert run_cli(*UPDATE)[0] == 0
    comments.failures = [status(503)] * 3
    code, out, err = run_cli("deliver")
    assert (code, out) == (4, "0 sent, 1 failed (will retry)\n")
    assert err.startswith("casewatch: CW-1001 update to zd ticket 1: failed, will retry: HTTP 503") and TOKEN not in err
    assert "failed (HTTP 503, will retry)" in run_cli("case", "show", "CW-1001")[1]

    comments.failures = [status(404)]
    code, out, err = run_cli("deliver", "--retry", "CW-1001", "--json")
    assert code == 2 and json.loads(out)[0]["state"] == "dead"
    assert err.count("\n") == 1 and "not delivered: HTTP 404" in err
    shown = run_cli("case", "show", "CW-1001")[1]
    assert "⚠ update not delivered" in shown and "`casewatch deliver --retry` tries again" in shown
    assert run_cli("deliver") == (0, "nothing to deliver\n", "")
    assert run_cli("deliver", "--retry", "CW-1001") == (0, "CW-1001: 1 delivery to try again\n1 sent\n", "")
    assert len(comments.posted["1"]) == 1


def test_write_back_off_sends_nothing_and_a_bad_table_is_one_line(floor, httpserver):
    run_cli, comments = floor
    write_config(CONFIG.format(url=comments.url, on="false"))
    assert run_cli(*UPDATE)[0] == 0
    assert run_cli("deliver") == (0, "nothing to deliver\n", "")
    assert comments.requests == []
    write_config(CONFIG.format(url=comments.url, on='"yes"'))
    code, out, err = run_cli("deliver")
    assert (code, out) == (2, "")
    assert err.strip().endswith(":7: sources.zd.write_back.customer_updates: must be true or false")


def test_the_owner_reaches_the_ticket_as_its_assignee_and_a_bad_id_is_one_line(floor):
    run_cli, comments = floor
    owner = CONFIG.format(url=comments.url, on="false") + "owner = true\n[sources.zd.assignees]\ndana = {id}\n"
    write_config(owner.format(id="12345"))
    assert run_cli("case", "assign", "CW-1001", "dana")[0] == 0
    assert run_cli("deliver") == (0, "1 sent\n", "")
    assert comments.assigned == {"1": [12345]} and "1" not in comments.posted
    code, out, _ = run_cli("case", "show", "CW-1001")
    assert code == 0 and re.search(r"\n {30}delivery to zd ticket 1: sent \d\d:\d\d\n", out)
    write_config(owner.format(id='"dana@acme.com"'))
    code, out, err = run_cli("deliver")
    assert (code, out) == (2, "")
    assert err.strip().endswith(":10: sources.zd.assignees.dana: must be the tracker's id of that person: a Zendesk "
                                'user id such as 12345, or a Jira accountId such as "5b10ac8d82e05b22cc7d4ef5"')


def test_a_deliver_killed_while_the_tracker_holds_its_send_then_run_again_posts_once(floor, tmp_path):
    run_cli, comments = floor
    assert run_cli(*UPDATE)[0] == 0
    arrived, release = threading.Event(), threading.Event()

    def hold() -> None:
        """The tracker has taken the comment; it answers only after the sender is gone."""
        arrived.set()
        release.wait(20)

    comments.hold_next = hold
    env = os.environ | {"CASEWATCH_ZD_TOKEN": TOKEN}
    command = [sys.executable, "-m", "casewatch.cli.main", "deliver"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert arrived.wait(30), process.stderr.read() if process.poll() is not None else "no request"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        release.set()
    assert process.returncode == -signal.SIGKILL
    assert len(comments.posted["1"]) == 1  # the tracker has it; the database does not know
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1 sent\n", "")
    assert len(comments.posted["1"]) == 1
    assert [m for m, _ in comments.requests][-2:] == ["PUT", "GET"]  # looked, found its marker, did not post
    assert "(comment 98765)" in run_cli("case", "show", "CW-1001")[1]


@contextlib.contextmanager
def following(every: str):
    """`sync --follow --every EVERY` as a process with the token set, and its stderr's lines as they
    come (a test waits for each with a deadline); killed at the end if it is still running."""
    env = os.environ | {"CASEWATCH_ZD_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "casewatch.cli.main", "sync", "--follow", "--every", every],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()


def test_sync_follow_delivers_each_pass(floor):
    run_cli, comments = floor
    assert run_cli(*UPDATE)[0] == 0
    with following("1m") as (process, lines):
        first = lines.get(timeout=30)
        assert first.endswith(" UTC deliver: 1 sent\n"), first
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        last = lines.get(timeout=5)
    assert last.endswith(" UTC stopped\n"), last
    assert len(comments.posted["1"]) == 1


def test_sync_follow_queues_again_a_row_deleted_while_it_runs(floor, tmp_path):
    """N4 under --follow: an update logged after the follow began whose outbox row is then deleted
    (a member's raw SQL) is queued again from the log by the next pass, said in one line, and sent
    once; the update logged before it began is sent as usual. The next pass comes at SIGUSR1, not
    an hour later."""
    import sqlite3

    run_cli, comments = floor
    assert run_cli(*UPDATE)[0] == 0
    with following("1h") as (process, lines):
        first = lines.get(timeout=30)
        assert first.endswith(" UTC deliver: 1 sent\n"), first
        assert run_cli("case", "update", "CW-1001", "--known", "Deleted", "--investigating", "-",
                       "--next-milestone", "-")[0] == 0
        with sqlite3.connect(tmp_path / "cw.db") as db:
            assert db.execute("DELETE FROM outbox WHERE state = 'queued'").rowcount == 1
        process.send_signal(signal.SIGUSR1)  # the next pass now, not in an hour
        missing, sent = lines.get(timeout=30), lines.get(timeout=30)
        assert " UTC deliver: CW-1001 update to zd ticket 1: missing from the outbox" in missing, missing
        assert sent.endswith(" UTC deliver: 1 sent\n"), sent
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        last = lines.get(timeout=5)
    assert last.endswith(" UTC stopped\n"), last
    assert [comment["body"].split("\n", 1)[0] for comment in comments.posted["1"]] == [
        "What we know: Payments fail", "What we know: Deleted"]
