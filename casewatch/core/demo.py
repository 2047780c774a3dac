"""A deterministic, realistic B2B support floor for demos, tests and benchmarks.

`demo_plan(cases, seed, now)` returns the roster and, per case, the commands a real team would have
issued (with their occurred times). Executing them through the normal rules builds the database,
so demo data can never be in a state the product itself could not reach.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from casewatch.core import commands as c
from casewatch.core.evidence import DEFAULT_CHECKLIST
from casewatch.core.models import Role, Severity, Status

PEOPLE: tuple[tuple[str, Role, str, str | None], ...] = (
    ("dana", Role.LEAD, "Europe/Berlin", None),
    ("marcus", Role.LEAD, "America/New_York", None),
    ("priya", Role.LEAD, "Asia/Kolkata", None),
    ("tom", Role.AGENT, "America/Chicago", None),
    ("sofia", Role.AGENT, "Europe/Madrid", None),
    ("kenji", Role.AGENT, "Asia/Tokyo", None),
    ("lena", Role.AGENT, "Europe/Berlin", None),
    ("omar", Role.AGENT, "America/New_York", None),
    ("ravi", Role.SPECIALIST, "Asia/Kolkata", "database"),
    ("elena", Role.SPECIALIST, "Europe/Warsaw", "network"),
    ("jack", Role.SPECIALIST, "Australia/Sydney", "billing"),
    ("mei", Role.SPECIALIST, "Asia/Singapore", "identity"),
    ("alex", Role.VIEWER, "America/Los_Angeles", None),
)
LEADS = [p[0] for p in PEOPLE if p[1] is Role.LEAD]
WORKERS = [p[0] for p in PEOPLE if p[1] in (Role.AGENT, Role.SPECIALIST)]
AGENTS = [p[0] for p in PEOPLE if p[1] is Role.AGENT]
SPECIALISTS = {p[3]: p[0] for p in PEOPLE if p[1] is Role.SPECIALIST}

CUSTOMERS = (
    "Acme Logistics", "Northwind Health", "Globex Retail", "Initech Payments", "Umbrella Biotech",
    "Stark Freight", "Wayne Analytics", "Hooli Cloud", "Soylent Foods", "Tyrell Robotics",
    "Cyberdyne Systems", "Aperture Labs", "Vandelay Imports", "Pied Piper", "Massive Dynamic",
    "Oscorp Energy", "Gringotts Bank", "Monarch Insurance", "Blue Sun Media", "Wonka Confections",
)
TITLES = (
    ("Login fails [prod] for SSO users", "identity"),
    ("Webhook deliveries delayed >15 min", "network"),
    ("API 502s on /v2/orders", "network"),
    ("Data export missing rows since Friday", "database"),
    ("Invoices double-charged after plan change", "billing"),
    ("Mobile app crashes on launch (iOS 18)", None),
    ("Search index stale for large tenants", "database"),
    ("[EU] latency spike in Frankfurt region", "network"),
    ("SAML assertion rejected: clock skew", "identity"),
    ("Bulk import stuck at 99%", "database"),
    ("Rate-limit errors for [b]Premium[/b] tier", "network"),
    ("Dashboard shows times in the wrong zone", None),
    ("Password reset emails not arriving", "identity"),
    ("Nightly sync job deadlocks", "database"),
    ("Audit log gaps for admin actions", None),
    ("Scheduled reports skipped runs", None),
    ("File uploads over 2 GB fail", "network"),
    ("Webhook signature mismatch after key rotation", "identity"),
    ("Custom domain TLS certificate expired", "network"),
    ("Refund API returns 409 for partial refunds", "billing"),
)
# (weight, how long ago it was escalated: min and max minutes)
SEVERITY_MIX = {
    Severity.SEV1: (8, 3, 90),
    Severity.SEV2: (22, 5, 6 * 60),
    Severity.SEV3: (45, 30, 4 * 24 * 60),
    Severity.SEV4: (25, 60, 8 * 24 * 60),
}
CommandFor = Callable[[str], object]


@dataclass
class Step:
    actor: str
    at: datetime
    make: CommandFor  # given the case id, the command


@dataclass
class CaseScript:
    actor: str
    at: datetime
    new: c.NewCase
    steps: list[Step] = field(default_factory=list)


@dataclass
class DemoPlan:
    people: list[c.AddPerson]
    cases: list[CaseScript]


def demo_plan(cases: int, seed: int, now: datetime) -> DemoPlan:
    rng = random.Random(seed)
    people = [c.AddPerson(name=n, role=r, tz=tz, team=team) for n, r, tz, team in PEOPLE]
    weights = [SEVERITY_MIX[s][0] for s in Severity]
    scripts = [_case_script(rng, rng.choices(list(Severity), weights)[0], now) for _ in range(cases)]
    return DemoPlan(people=people, cases=scripts)


def _case_script(rng: random.Random, severity: Severity, now: datetime) -> CaseScript:
    _, lo, hi = SEVERITY_MIX[severity]
    age = timedelta(minutes=rng.uniform(lo, hi))
    start = now - age
    title, team = rng.choice(TITLES)
    reporter = rng.choice(AGENTS + LEADS)
    lead = rng.choice(LEADS)
    script = CaseScript(
        actor=reporter, at=start,
        new=c.NewCase(title=title, customer=rng.choice(CUSTOMERS), severity=severity,
                      summary=f"Escalated by {reporter} after first-line checks."),
    )

    def at(fraction: float) -> datetime:
        return start + age * fraction

    def step(actor: str, fraction: float, make: CommandFor) -> None:
        script.steps.append(Step(actor, at(fraction), make))

    # Evidence: agents fill part of the packet early on.
    for key, _label in rng.sample(DEFAULT_CHECKLIST, rng.randint(1, len(DEFAULT_CHECKLIST))):
        step(reporter, rng.uniform(0.01, 0.2), lambda cid, key=key: c.SetEvidence(case_id=cid, key=key))
    ownership = rng.random()
    owner = SPECIALISTS.get(team) if team and rng.random() < 0.5 else rng.choice(WORKERS)
    comms = rng.choice(AGENTS)
    if ownership < 0.55:  # both owners named
        step(lead, rng.uniform(0.05, 0.4), lambda cid: c.Assign(case_id=cid, name=owner))
        step(lead, rng.uniform(0.05, 0.4), lambda cid: c.AssignComms(case_id=cid, name=comms))
    elif ownership < 0.72:  # only the internal owner
        step(lead, rng.uniform(0.05, 0.4), lambda cid: c.Assign(case_id=cid, name=owner))
    elif ownership < 0.85:  # only the comms owner
        step(lead, rng.uniform(0.05, 0.4), lambda cid: c.AssignComms(case_id=cid, name=comms))
    # else: nobody named yet — the board should shout about these.
    if ownership < 0.72:
        step(lead, 0.42, lambda cid: c.ChangeStatus(case_id=cid, status=Status.INVESTIGATING))
        if severity is Severity.SEV1 and rng.random() < 0.6:
            step(lead, 0.45, lambda cid: c.Involve(case_id=cid, name=lead, role="incident-commander"))
        if rng.random() < 0.55:
            step(lead, rng.uniform(0.45, 0.9), lambda cid: c.CustomerUpdate(
                case_id=cid, known="We reproduced the failure on your tenant.",
                investigating="Which recent change introduced it.", next_milestone="A confirmed root cause."))
        if rng.random() < 0.4:
            step(lead, rng.uniform(0.5, 0.95), lambda cid: c.Review(case_id=cid, notes="Reviewed progress and next steps."))
        if rng.random() < 0.18:
            step(lead, rng.uniform(0.6, 0.97), lambda cid: c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER))
        elif rng.random() < 0.08:
            step(lead, rng.uniform(0.6, 0.97), lambda cid: c.ChangeStatus(case_id=cid, status=Status.MITIGATED))
    if rng.random() < 0.07 and severity is not Severity.SEV1:
        higher = Severity(f"SEV{int(severity.value[-1]) - 1}")
        step(lead, 0.5, lambda cid: c.ChangeSeverity(case_id=cid, severity=higher, reason="Impact wider than first reported."))
    if rng.random() < 0.15:
        step(reporter, rng.uniform(0.1, 0.9), lambda cid: c.Note(case_id=cid, text="Customer shared a HAR file [see ticket]."))
    script.steps.sort(key=lambda s: s.at)
    return script
