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
from functools import partial

from casewatch.core import commands as c
from casewatch.core.models import EvidenceState, Role, Severity, Status
from casewatch.core.policy import Policy, default_policy

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
SEVERITY_WEIGHTS = {Severity.SEV1: 5, Severity.SEV2: 20, Severity.SEV3: 45, Severity.SEV4: 30}
# How a case stands "now": most are under control, some are slipping, a few are on fire.
HEALTH_WEIGHTS = {"running": 50, "warning": 14, "breached": 14, "paused": 8, "unowned": 10, "resolved": 4}
CommandFor = Callable[[str], c.Command]


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
    return_candidate: str | None = None  # the team a thin packet was pushed to, which may send it back


SHIFT_AGE = timedelta(hours=7)  # near its end: time to prepare the handoff


@dataclass
class DemoPlan:
    people: list[c.AddPerson]
    cases: list[CaseScript]
    shift_started: datetime | None = None  # when the seeding lead's shift began (the board shows a lead)


def demo_plan(cases: int, seed: int, now: datetime, policy: Policy | None = None,
              *, open_only: bool = False) -> DemoPlan:
    """`cases` scripts under `policy` (the default one unless given), the same for the same seed and now.
    `open_only` leaves out resolved cases, for benchmarks that need an exact number of open ones."""
    rng = random.Random(seed)
    policy = policy or default_policy()
    people = [c.AddPerson(name=n, role=r, tz=tz, team=team) for n, r, tz, team in PEOPLE]
    severities, sev_weights = list(SEVERITY_WEIGHTS), list(SEVERITY_WEIGHTS.values())
    health = {k: w for k, w in HEALTH_WEIGHTS.items() if not (open_only and k == "resolved")}
    healths, health_weights = list(health), list(health.values())
    scripts = [
        _case_script(rng, rng.choices(severities, sev_weights)[0], rng.choices(healths, health_weights)[0],
                     now, policy)
        for _ in range(cases)
    ]
    _return_one(scripts, now)
    return DemoPlan(people=people, cases=scripts, shift_started=now - SHIFT_AGE)


def _return_one(scripts: list[CaseScript], now: datetime) -> None:
    """The specialist of the first case pushed through the gate sends it back for missing context."""
    script = next((s for s in scripts if s.return_candidate), None)
    if script is not None:
        routed = next(s.at for s in script.steps if getattr(s.make, "func", None) is _route)
        at = min(routed + (now - routed) / 2, now)
        script.steps.append(Step(SPECIALISTS[script.return_candidate], at, _return))
        _finish(script)


def _update(cid: str) -> c.CustomerUpdate:
    return c.CustomerUpdate(case_id=cid, known="We reproduced the failure on your tenant.",
                            investigating="Which recent change introduced it.",
                            next_milestone="A confirmed root cause.")


# What agents write into the checklist: full answers for a good packet, a line for a thin one.
EVIDENCE_TEXT: dict[str, tuple[str, str]] = {
    "impact": ("About 340 users across 3 tenants of {customer}; their ops team is blocked since 08:40 UTC.\n"
               "Business impact: orders cannot be confirmed; they estimate $12k/hour.",
               "Several users affected, customer unsure how many."),
    "identifiers": ("Tenant: t-4821, t-4822, t-5107\nRequest ids: req_9f2c1e, req_a03b77\n"
                    "Trace: 4bf92f3577b34da6a3ce929d0e0e4736\nApp version 24.11.2 (web), API v2",
                    "Tenant t-4821"),
    "timeline": ("08:40 UTC first error in their logs\n08:55 customer opened the ticket\n"
                 "09:05 we confirmed on staging [same build]\nNo deploys on their side since Monday.",
                 "Started this morning."),
    "observed": ("Observed: requests fail with 502 after ~30 s.\nExpected: 200 within 1 s.\n"
                 "Steps: 1. sign in as an SSO user  2. open Orders  3. press Export.",
                 "Export fails."),
    "first_checks": ("Status page: green. Known issues: none matching.\nConfig: SSO certificate valid until 2027.\n"
                     "Logs: upstream timeout in gateway (see attachment).",
                     "Checked the status page."),
    "attachments": ("HAR file: https://files.example.com/t-4821/export.har\n"
                    "Dashboard: https://grafana.example.com/d/api-latency?from=now-6h",
                    "Screenshot in the ticket."),
    "open_question": ("Did the gateway timeout change in the 24.11.2 rollout, and can it be raised for t-4821?",
                      "Why does it fail?"),
}
NA_REASONS = {"attachments": "Customer's security policy forbids sharing HAR files"}


def _evidence(key: str, state: EvidenceState, value: str, reason: str | None, cid: str) -> c.SetEvidence:
    return c.SetEvidence(case_id=cid, key=key, state=state, value=value, reason=reason)


def _route(route: str, override: str | None, cid: str) -> c.ChangeRoute:
    return c.ChangeRoute(case_id=cid, route=route, reason="Needs the owning team's eyes.", override=override)


def _return(cid: str) -> c.ReturnCase:
    return c.ReturnCase(case_id=cid, missing=("timeline", "observed"),
                        reason="No times and no steps: we cannot reproduce it from this packet.")


def _involve(name: str, role: str, cid: str) -> c.Involve:
    return c.Involve(case_id=cid, name=name, role=role)


def _case_script(rng: random.Random, severity: Severity, health: str, now: datetime, policy: Policy) -> CaseScript:
    sp = policy[severity]
    cal = policy.calendar_for(severity)
    cadence = sp.customer_update_every
    if health == "unowned":  # escalated within about one owner window
        start = cal.sub(now, sp.owner_within * rng.uniform(0.2, 1.4))
    else:
        start = cal.sub(now, cadence * rng.uniform(1.3, 4.0))
    title, team = rng.choice(TITLES)
    reporter = rng.choice(AGENTS + LEADS)
    lead = rng.choice(LEADS)
    script = CaseScript(
        actor=reporter, at=start,
        new=c.NewCase(title=title, customer=rng.choice(CUSTOMERS), severity=severity,
                      summary=f"Escalated by {reporter} after first-line checks."),
    )

    def step(actor: str, at: datetime, make: CommandFor) -> None:
        script.steps.append(Step(actor, min(max(at, start), now), make))

    window_end = cal.add(start, sp.owner_within)
    complete = rng.random() < 0.45
    keys = list(EVIDENCE_TEXT) if complete else rng.sample(list(EVIDENCE_TEXT), rng.randint(0, 3))
    for key in keys:
        full, thin = EVIDENCE_TEXT[key]
        state, value, reason = EvidenceState.PARTIAL, thin, None
        if complete and key in NA_REASONS and rng.random() < 0.3:
            state, value, reason = EvidenceState.NA, "", NA_REASONS[key]
        elif complete or rng.random() < 0.3:
            state, value = EvidenceState.DONE, full.format(customer=script.new.customer)
        step(reporter, start + (window_end - start) * rng.uniform(0.05, 0.5),
             partial(_evidence, key, state, value, reason))
    if health == "unowned":
        if rng.random() < 0.4:
            comms = rng.choice(AGENTS)
            step(lead, start + (now - start) * 0.3, lambda cid: c.AssignComms(case_id=cid, name=comms))
        return _finish(script)

    owner = SPECIALISTS.get(team) if team and rng.random() < 0.5 else rng.choice(WORKERS)
    comms = rng.choice(AGENTS)
    named = cal.add(start, sp.owner_within * rng.uniform(0.2, 1.2))
    step(lead, named, lambda cid: c.Assign(case_id=cid, name=owner))
    if rng.random() < 0.8:
        step(lead, named, lambda cid: c.AssignComms(case_id=cid, name=comms))
    step(lead, named, lambda cid: c.ChangeStatus(case_id=cid, status=Status.INVESTIGATING))
    for role in sp.must_involve:
        if rng.random() < 0.75:
            person = lead if role in ("lead", "incident-commander") else rng.choice(WORKERS)
            step(lead, named, partial(_involve, person, role))

    # Customer updates on cadence, the last one placed so the clock stands as `health` says.
    left = {"running": rng.uniform(sp.warn_at + 0.1, 0.95), "warning": rng.uniform(0.03, max(0.04, sp.warn_at - 0.02)),
            "breached": -rng.uniform(0.1, 1.5), "paused": rng.uniform(0.3, 0.9),
            "resolved": rng.uniform(0.3, 0.9)}[health]
    last = cal.sub(now, cadence * (1 - left))
    earlier = last
    while True:
        earlier = cal.sub(earlier, cadence * rng.uniform(0.7, 0.95))
        if earlier <= named:
            break
        step(lead, earlier, _update)
    if last > named:
        step(lead, last, _update)
    review = cal.sub(now, sp.internal_review_every * rng.uniform(0.1, 1.1))
    resolved = last + (now - last) * 0.5 if health == "resolved" else now  # nothing but notes after that
    if named < review < resolved:
        step(lead, review, lambda cid: c.Review(case_id=cid, notes="Reviewed progress and next steps."))
    if health == "paused":
        waiting_from = last + (now - last) * rng.uniform(0.1, 0.6)
        step(lead, waiting_from, lambda cid: c.ChangeStatus(case_id=cid, status=Status.WAITING_ON_CUSTOMER))
    elif health == "resolved":
        step(lead, resolved, lambda cid: c.ChangeStatus(case_id=cid, status=Status.RESOLVED))
    elif rng.random() < 0.08:
        step(lead, last, lambda cid: c.ChangeStatus(case_id=cid, status=Status.MITIGATED))
    if rng.random() < 0.06 and severity is not Severity.SEV1:
        higher = Severity(f"SEV{int(severity.value[-1]) - 1}")
        step(lead, named, lambda cid: c.ChangeSeverity(case_id=cid, severity=higher,
                                                       reason="Impact wider than first reported."))
    if rng.random() < 0.15:
        step(reporter, start + (now - start) * rng.uniform(0.1, 0.9),
             lambda cid: c.Note(case_id=cid, text="Customer shared a HAR file [see ticket]."))
    if team and health != "resolved" and severity is not Severity.SEV1:  # SEV1 stays with incident
        routed = max(named, start + (window_end - start) * 0.55)  # after the evidence went in
        if complete and rng.random() < 0.6:
            step(lead, routed, partial(_route, f"specialist:{team}", None))
        elif not complete and rng.random() < 0.2:  # a lead pushes a thin packet through the gate
            step(lead, routed, partial(_route, f"specialist:{team}", "Customer is on the exec watch list."))
            script.return_candidate = team
    return _finish(script)


def _finish(script: CaseScript) -> CaseScript:
    script.steps.sort(key=lambda s: s.at)
    return script
