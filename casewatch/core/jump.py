"""`:` on the board: which case a typed id or ticket key names. A unique beginning is enough."""

from __future__ import annotations

from collections.abc import Iterable

from casewatch.core.errors import InvalidInput, NotFound
from casewatch.core.text import unseen_removed
from casewatch.core.views import Listed

SHOWN = 5  # how many candidates an ambiguous beginning names


def case_names(case: Listed) -> list[str]:
    """What a case may be called: its id and, when linked, its ticket as people say it and the bare id."""
    return [case.id, *((case.source.key, case.source.id) if case.source else ())]


def find_case(typed: str, cases: Iterable[Listed]) -> str:
    """The id of the case `typed` names: one whose id or ticket is exactly that (any case), else
    the only one whose id or ticket starts with it. NotFound when none does; InvalidInput, naming
    a few, when several do."""
    wanted = unseen_removed(typed).strip().casefold()
    if not wanted:
        raise InvalidInput("type a case id (CW-1042) or a ticket key (ZD-48213)")
    listed = {case.id: case for case in cases}
    for matches in (lambda name: name.casefold() == wanted, lambda name: name.casefold().startswith(wanted)):
        found = {case_id: _called(case, matches) for case_id, case in listed.items()}
        found = {case_id: called for case_id, called in found.items() if called}
        if len(found) == 1:
            return next(iter(found))
        if found:
            more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
            shown = ", ".join(found[case_id] for case_id in sorted(found)[:SHOWN])
            raise InvalidInput(f"{typed.strip()!r} could be {shown}{more}: type more")
    raise NotFound(f"no open case is called {typed.strip()!r}")


def _called(case: Listed, matches) -> str:
    """How a candidate is named in the "could be" list: by its id when that matched, else by its
    ticket key (the lead typed a ticket) with the id beside it; "" when nothing matched."""
    if matches(case.id):
        return case.id
    if case.source and (matches(case.source.key) or matches(case.source.id)):
        return f"{case.source.key} ({case.id})"
    return ""
