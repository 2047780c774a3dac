"""The reducer's own parts (core.projection)."""

from __future__ import annotations

from casewatch.core.projection import _next
from tests.core.test_listing import varied_floor


def test_a_fold_step_copies_a_case_as_pydantic_would():
    for case in varied_floor().cases.values():
        for update in ({}, {"title": "changed", "version": case.version + 1}, {"summary": "", "returned": None}):
            made, copied = _next(case, update), case.model_copy(update=update)
            assert made == copied and made.model_fields_set == copied.model_fields_set
            assert made.model_dump() == copied.model_dump() and made is not case
        assert case.title != "changed"  # the case itself is left as it was
