"""The default escalation-packet checklist every new case starts with.

The evidence-checklist editor (future work) will make this per route; until then every case gets
the items a receiving team most often has to reconstruct.
"""

from casewatch.core.models import EvidenceItem

DEFAULT_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("impact", "Customer impact and affected users stated"),
    ("timeline", "Timeline of what happened, with times"),
    ("identifiers", "Account, tenant and request IDs"),
    ("reproduction", "Steps to reproduce, or a recording"),
    ("logs", "Logs, traces or screenshots attached"),
    ("first_checks", "First-line checks done, with results"),
)


def default_checklist() -> list[EvidenceItem]:
    return [EvidenceItem(key=key, label=label) for key, label in DEFAULT_CHECKLIST]
