"""Customer-update templates: the policy's [[templates]], filled in with one case's fields.

The policy refuses a template that names anything but `PLACEHOLDERS` (core.policy), so filling
one never fails; what the case's fields hold is put in as it is, never read as a placeholder.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from casewatch.core.errors import NotFound
from casewatch.core.models import Case
from casewatch.core.policy import Policy, TemplateSpec


class Filled(NamedTuple):
    known: str
    investigating: str
    next_milestone: str


def templates_for(case: Case, policy: Policy) -> list[TemplateSpec]:
    """The templates offered for the case's severity, in the policy's order."""
    return [template for template in policy.templates if case.severity in template.severities]


def find_template(name: str, case: Case, policy: Policy) -> TemplateSpec:
    """The template called `name` (any case), refused when it is not offered for the case's severity."""
    wanted = name.strip().casefold()
    template = next((t for t in policy.templates if t.name.strip().casefold() == wanted), None)
    if template is None:
        known = ", ".join(t.name for t in policy.templates) or "none: the policy has no [[templates]]"
        raise NotFound(f"no template {name.strip()!r} (templates: {known})")
    if case.severity not in template.severities:
        raise NotFound(f"template {template.name!r} is not for {case.severity.value} "
                       f"(it is for {', '.join(s.value for s in template.severities)})")
    return template


def fill(template: TemplateSpec, case: Case, policy: Policy, now: datetime, zone: str) -> Filled:
    """The template's three texts with the case's fields; `{next_update_local}` is when the next
    update would be due after one sent `now` (the policy's cadence), in `zone`, labelled."""
    spec = policy[case.severity]
    due = policy.calendar_for(case.severity).add(now, spec.customer_update_every).astimezone(ZoneInfo(zone))
    values = {"customer": case.customer, "title": case.title, "severity": case.severity.value,
              "next_update_local": due.strftime("%Y-%m-%d %H:%M %Z"),
              "ticket": case.source.key if case.source else case.id}
    return Filled(*(text.format_map(values) for text in (template.known, template.investigating,
                                                        template.next_milestone)))
