"""The filter language of the board's `/` and `casewatch cases --filter`: words, and fields.

A query is read once into a `CaseFilter` (a list of tests), then applied to every case: on
10,000 cases per keystroke, parsing per case would cost more than the matching.

    owner:ravi  owner:none  comms:tom  sev:1  sev:1,2  customer:acme  route:specialist:*
    status:waiting  src:zd  is:breached|unowned|mine|returned|unread  and plain words

Different fields must all hold; a comma lists alternatives within one field (`sev:1,2`). A word
whose part before the colon names no field (`14:00`) is a plain word, as it always was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Protocol, TypeVar

from casewatch.core.clocks import CaseClocks
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Severity, Status
from casewatch.core.text import cut, unseen_removed
from casewatch.core.views import Listed, case_haystack, is_breached, is_mine, is_unowned


class Filtered(Listed, Protocol):
    """What a filter reads besides the listed fields: a case or its listing."""

    @property
    def severity(self) -> Severity: ...
    @property
    def returned(self) -> object: ...  # a case's return record, or a listing's flag: truthy when returned
    @property
    def version(self) -> int: ...


class Haystacks:
    """Each case's `case_haystack`, kept while its version stands: a filter typed a key at a time
    looks for its words in every case on every keystroke, and folding the text is most of the cost."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[int, str]] = {}  # case id -> (version, haystack)

    def __call__(self, case: Filtered) -> str:
        kept = self.kept.get(case.id)
        if kept is not None and kept[0] == case.version:
            return kept[1]
        text = case_haystack(case)
        self.kept[case.id] = (case.version, text)
        return text


@dataclass(frozen=True)
class Seen:
    """What a test may need beyond the case: who is looking, when, every case's clocks by id,
    which cases the viewer has not read since they changed (none until unread marks are kept) and
    who leads the shift (`is:mine` holds their cases with no named route authority). One serves a
    whole pass over the cases."""

    viewer: str
    now: datetime
    clocks: Mapping[str, CaseClocks]
    unread: Set[str] = frozenset()
    haystacks: Haystacks = field(default_factory=Haystacks)  # kept across passes by a caller that filters again
    shift_lead: str | None = None


Test = Callable[[Filtered, Seen], bool]
F = TypeVar("F", bound=Filtered)


class Is(StrEnum):
    """The `is:` words."""

    BREACHED = "breached"
    UNOWNED = "unowned"
    MINE = "mine"
    RETURNED = "returned"
    UNREAD = "unread"


IS_TESTS: dict[Is, Test] = {
    Is.BREACHED: lambda case, seen: is_breached(seen.clocks[case.id], seen.now),
    Is.UNOWNED: lambda case, seen: is_unowned(case),
    Is.MINE: lambda case, seen: is_mine(case, seen.viewer, seen.shift_lead),
    Is.RETURNED: lambda case, seen: bool(case.returned),
    Is.UNREAD: lambda case, seen: case.id in seen.unread,
}


def _person(attribute: str) -> Callable[[str], Test]:
    """`owner:ravi` (that handle, any case) or `owner:none` (nobody)."""
    def parse(value: str) -> Test:
        wanted = {None if name == "none" else name for name in _choices(value)}
        return lambda case, seen: _folded(getattr(case, attribute)) in wanted
    return parse


def _severity(value: str) -> Test:
    wanted = set()
    for choice in _choices(value):
        try:
            wanted.add(Severity.parse(choice))
        except InvalidInput:
            raise _problem(f"sev:{value}", f"a severity is 1 to {len(Severity)} (e.g. sev:1,2)") from None
    return lambda case, seen: case.severity in wanted


def _customer(value: str) -> Test:
    """`customer:acme`: any of the choices appears in the customer's name (any case)."""
    choices = _choices(value)
    return lambda case, seen: any(choice in unseen_removed(case.customer).casefold() for choice in choices)


def _route(value: str) -> Test:
    """`route:incident`, `route:specialist:*` (a shell pattern; `*` any text)."""
    patterns = _choices(value)
    return lambda case, seen: any(fnmatchcase(case.route.casefold(), pattern) for pattern in patterns)


def _status(value: str) -> Test:
    """`status:waiting`: statuses starting with the text (`waiting_on_customer`); spaces or dashes as `_`."""
    prefixes = [re.sub(r"[ -]", "_", choice) for choice in _choices(value)]
    for prefix in prefixes:
        if not any(status.value.startswith(prefix) for status in Status):
            raise _problem(f"status:{prefix}", f"a status is one of {', '.join(status.value for status in Status)}")
    return lambda case, seen: any(case.status.value.startswith(prefix) for prefix in prefixes)


def _source(value: str) -> Test:
    """`src:zd`: cases linked to a ticket of that source (`src:none`: not linked)."""
    wanted = {None if name == "none" else name for name in _choices(value)}
    return lambda case, seen: _folded(case.source.name if case.source else None) in wanted


def _is(value: str) -> Test:
    tests = []
    for choice in _choices(value):
        try:
            tests.append(IS_TESTS[Is(choice)])
        except ValueError:
            raise _problem(f"is:{choice}", f"is one of {', '.join(item.value for item in Is)}") from None
    return lambda case, seen: any(test(case, seen) for test in tests)


FIELDS: dict[str, Callable[[str], Test]] = {
    "owner": _person("internal_owner"),
    "comms": _person("comms_owner"),
    "sev": _severity,
    "customer": _customer,
    "route": _route,
    "status": _status,
    "src": _source,
    "is": _is,
}
"""Each field's parser: from the text after the colon to its test."""


ECHO_LIMIT = 30
"""The most characters of a field word a problem repeats: the board's error line has three lines
at most, and a long mistyped word took them all, leaving out what was wrong with it."""


def _problem(token: str, explanation: str) -> InvalidInput:
    """`sev:9: a severity is 1 to 4`: the field word as typed (shortened past ECHO_LIMIT, and
    quoted when it ends in a colon of its own: `“sev:4:”: …`, not `sev:4:: …`), then what is wrong."""
    echo = cut(token, ECHO_LIMIT)
    if echo.endswith(":"):
        echo = f"“{echo}”"
    return InvalidInput(f"{echo}: {explanation}")


def _choices(value: str) -> list[str]:
    return [choice for choice in value.split(",") if choice]


def _folded(text: str | None) -> str | None:
    return None if text is None else unseen_removed(text).casefold()


@dataclass(frozen=True)
class CaseFilter:
    """A parsed query: the plain words (each must appear somewhere) and the field tests."""

    text: str = ""  # as typed
    words: tuple[str, ...] = ()
    tests: tuple[Test, ...] = field(default=(), compare=False)  # field comparisons: cheap, run first
    costly: tuple[Test, ...] = field(default=(), compare=False)  # `is:` (clocks read at `now`): run last
    fields: tuple[str, ...] = field(default=(), compare=False)  # the field tokens, folded (`sev:1`)

    def __bool__(self) -> bool:
        return bool(self.words or self.tests or self.costly)

    @property
    def asks_unread(self) -> bool:
        """Whether `is:unread` is part of it (the CLI reads the viewer's marks only then)."""
        return any(token.startswith("is:") and Is.UNREAD.value in token[3:].split(",")
                   for token in unseen_removed(self.text).casefold().split())

    def narrows(self, before: CaseFilter) -> bool:
        """Whether every case this filter matches is one `before` matches too, on the same cases
        at any time: each of its field words is one of ours and each of its plain words is part
        of one of ours (`acme` after `ac`). Then a keystroke that adds to the query need only look
        at the cases shown. Never with `is:` words, which read the clocks at `now`."""
        if self.costly or before.costly:
            return False
        return set(before.fields) <= set(self.fields) and all(
            any(old in new for new in self.words) for old in before.words)

    def select(self, cases: Iterable[tuple[str, F]], seen: Seen) -> Iterator[tuple[str, F]]:
        """The (id, case) pairs that match, in their order: `matches` over many cases, with the
        plain words looked for inline (the board runs it over 10,000 cases on a keystroke)."""
        if self.tests or self.costly or not self.words:
            return ((case_id, case) for case_id, case in cases if self.matches(case, seen))
        return self._select_words(cases, seen.haystacks)

    def _select_words(self, cases: Iterable[tuple[str, F]], haystacks: Haystacks) -> Iterator[tuple[str, F]]:
        kept, words = haystacks.kept, self.words
        for case_id, case in cases:
            entry = kept.get(case_id)
            haystack = entry[1] if entry is not None and entry[0] == case.version else haystacks(case)
            for word in words:
                if word not in haystack:
                    break
            else:
                yield case_id, case

    def matches(self, case: Filtered, seen: Seen) -> bool:
        # (plain loops: this runs for every case on every keystroke, and a generator per call costs)
        for test in self.tests:
            if not test(case, seen):
                return False
        if self.words:
            haystack = seen.haystacks(case)
            for word in self.words:
                if word not in haystack:
                    return False
        return all(test(case, seen) for test in self.costly)  # few cases get this far


def parse_filter(query: str) -> CaseFilter:
    """Read a query (InvalidInput names the field that is wrong). Invisible characters count for
    nothing; case never matters."""
    words: list[str] = []
    tests: list[Test] = []
    costly: list[Test] = []
    fields: list[str] = []
    for token in unseen_removed(query).casefold().split():
        name, colon, value = token.partition(":")
        if colon and name in FIELDS:
            if not value:
                raise InvalidInput(f"{name}: needs a value after the colon (e.g. {name}:{_EXAMPLES[name]})")
            (costly if name == "is" else tests).append(FIELDS[name](value))
            fields.append(token)
        else:
            words.append(token)
    return CaseFilter(query, tuple(words), tuple(tests), tuple(costly), tuple(fields))


_EXAMPLES = {"owner": "ravi", "comms": "tom", "sev": "1,2", "customer": "acme", "route": "specialist:*",
             "status": "waiting", "src": "zd", "is": "unowned"}
