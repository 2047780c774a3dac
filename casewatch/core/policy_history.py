"""Which policy was in force at any instant, from the log's `policy_applied` events.

Version n is the n-th policy the log applied (as the `policies` projection numbers them). A policy
is in force from its event's instant until the next one's; before the first, the first counts
(cases may be backfilled to before their database existed). Breaches, metrics and `--as-of` reads
all ask this one history.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from casewatch.core.models import Event, EventType
from casewatch.core.policy import Policy, parse_policy
from casewatch.core.projection import in_history_order


class PolicyHistory:
    def __init__(self, applied: Sequence[tuple[datetime, Policy]]):
        """`applied`: (from when, policy) in history order; each policy carries its version."""
        if not applied:
            raise ValueError("a policy history needs at least one policy")
        self._since = [since for since, _ in applied]
        self._policies = [policy for _, policy in applied]

    @classmethod
    def from_log(cls, floor_events: Iterable[Event]) -> PolicyHistory | None:
        """The history the events outside any case record; None when they apply no policy."""
        applied = [e for e in floor_events if e.type is EventType.POLICY_APPLIED]
        version = {id(e): n for n, e in enumerate(sorted(applied, key=lambda e: e.id or 0), start=1)}
        history = [(e.occurred_at, parse_policy(e.payload["toml"], f"policy v{version[id(e)]}", version=version[id(e)]))
                   for e in in_history_order(applied)]
        return cls(history) if history else None

    @classmethod
    def only(cls, policy: Policy) -> PolicyHistory:
        """One policy, in force throughout (a log that applied one policy, as in the core tests)."""
        return cls([(datetime.min.replace(tzinfo=UTC), policy)])

    def at(self, instant: datetime) -> Policy:
        """The policy in force at `instant`."""
        return self._policies[max(bisect_right(self._since, instant) - 1, 0)]

    def until(self, instant: datetime) -> list[tuple[datetime, Policy]]:
        """The policies that took force up to `instant`, each with its instant, the one in force at
        `instant` last: what a clock planned then may have run under (`plan_clocks`)."""
        taken = max(bisect_right(self._since, instant), 1)
        return list(zip(self._since[:taken], self._policies[:taken], strict=True))

    def changes(self, after: datetime, until: datetime) -> list[datetime]:
        """The instants in (after, until] at which another policy took force."""
        return [since for since in self._since[1:] if after < since <= until]

    @property
    def current(self) -> Policy:
        return self._policies[-1]

    @property
    def latest(self) -> Policy:
        """The policy applied last (the highest version): what the store plans clocks under now."""
        return max(self._policies, key=lambda policy: policy.version)
