"""A long closed history for the metrics benchmark: `CASES` escalations over `DAYS` days before
`databases.NOW`, each resolved with a post-case review, about 20 events per case (a million events
at 50,000 cases), written through the batched write path imports use. Deterministic for a seed.

Per case: escalation; owner, comms owner and route authority; four evidence items; customer updates
at about the policy's cadence (some late, so breaches exist); two internal reviews; two notes;
sometimes a severity change; and `case close` with its review. Three leads take 8-hour shifts."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.models import EvidenceState, Role, Severity
from casewatch.core.policy import DEFAULT_CAUSES, default_policy
from casewatch.storage.store import BatchItem, Store

LEADS = ("lead1", "lead2", "lead3")
AGENTS = tuple(f"agent{n}" for n in range(1, 21))
EVIDENCE = ("impact", "identifiers", "timeline", "observed")
BATCH_CASES = 250
CADENCE = {severity: policy.customer_update_every for severity, policy in default_policy().severities.items()}


def _case_items(rng: random.Random, start: datetime) -> list[BatchItem]:
    severity = rng.choices(list(Severity), weights=(1, 3, 5, 3))[0]
    cadence = CADENCE[severity]
    lead, owner, comms = rng.choice(LEADS), rng.choice(AGENTS), rng.choice(AGENTS)
    t = start

    def later(low: float, high: float) -> datetime:
        nonlocal t
        t = t + timedelta(minutes=rng.uniform(low, high))
        return t

    def on_case(make: Callable[[str], c.Command], actor: str, at: datetime) -> BatchItem:
        return make, actor, at

    items: list[BatchItem] = [(c.NewCase(title=f"Case opened {start:%d %b %H:%M}", customer=f"Customer {rng.randint(1, 900)}",
                                         severity=severity, summary="generated for the metrics benchmark"), lead, start)]
    items.append(on_case(lambda cid: c.Assign(case_id=cid, name=owner), lead, later(1, 40)))
    items.append(on_case(lambda cid: c.AssignComms(case_id=cid, name=comms), lead, later(0.1, 5)))
    items.append(on_case(lambda cid: c.SetAuthority(case_id=cid, name=lead), lead, later(0.1, 5)))
    for key in EVIDENCE:
        items.append(on_case(lambda cid, key=key: c.SetEvidence(case_id=cid, key=key, state=EvidenceState.DONE,
                                                                value=f"{key}: collected"), owner, later(0.1, 3)))
    if rng.random() < 0.1:
        other = rng.choice([s for s in Severity if s is not severity])
        items.append(on_case(lambda cid: c.ChangeSeverity(case_id=cid, severity=other, reason="reassessed"), lead,
                             later(1, 30)))
    step = cadence.total_seconds() / 60
    for n in range(6):
        items.append(on_case(lambda cid, n=n: c.CustomerUpdate(case_id=cid, known=f"finding {n}", investigating="logs",
                                                               next_milestone="next check"),
                             lead, later(step * 0.5, step * 1.15)))
        if n in (1, 4):
            items.append(on_case(lambda cid: c.Review(case_id=cid, notes="reviewed progress"), lead, later(1, 10)))
            items.append(on_case(lambda cid: c.Note(case_id=cid, text="checked the dashboards"), owner, later(1, 10)))
    final = severity if rng.random() < 0.85 else rng.choice(list(Severity))
    avoidable, cause = rng.random() < 0.2, rng.choice(DEFAULT_CAUSES)
    items.append(on_case(lambda cid: c.CloseCase(case_id=cid, final_severity=final, avoidable=avoidable, cause=cause,
                                                 lesson="a runbook would have helped" if avoidable else ""),
                         lead, later(5, 60)))
    return items


async def write_history(store: Store, cases: int, days: int, now: datetime, seed: int) -> int:
    """Write the history; returns the number of events written."""
    rng = random.Random(seed)
    first = now - timedelta(days=days)
    people: list[BatchItem] = [(c.AddPerson(name=name, role=Role.LEAD, tz="UTC"), "bench", first) for name in LEADS]
    people += [(c.AddPerson(name=name, role=Role.AGENT, tz="UTC"), "bench", first) for name in AGENTS]
    written = len(await store.execute_many(people))
    shifts: list[BatchItem] = [(c.StartShift(), LEADS[n % 3], first + timedelta(hours=8 * n)) for n in range(days * 3)]
    written += len(await store.execute_many(shifts))
    span = (now - timedelta(days=10) - first).total_seconds()  # every case is closed by now (SEV4: ~7 days)
    starts = sorted(first + timedelta(seconds=rng.uniform(0, span)) for _ in range(cases))
    for batch in range(0, cases, BATCH_CASES):
        items = [item for start in starts[batch:batch + BATCH_CASES] for item in _case_items(rng, start)]
        written += len(await store.execute_many(items))
    return written
