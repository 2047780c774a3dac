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
    names = {case.id: [name.casefold() for name in case_names(case)] for case in cases}
    for matches in (lambda name: name == wanted, lambda name: name.startswith(wanted)):
        found = [case_id for case_id, known in names.items() if any(matches(name) for name in known)]
        if len(found) == 1:
            return found[0]
        if found:
            more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
            raise InvalidInput(f"{typed.strip()!r} could be {', '.join(sorted(found)[:SHOWN])}{more}: type more")
    raise NotFound(f"no open case is called {typed.strip()!r}")
