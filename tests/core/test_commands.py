"""Commands as data: free text is trimmed and must say something; enums are read from what people type."""

import pytest

from casewatch.core import commands as c
from casewatch.core.errors import InvalidInput
from casewatch.core.models import Role, Severity, Status


def test_free_text_is_trimmed():
    note = c.Note(case_id=" cw-7 ", text="  HAR file attached \n")
    assert note.text == "HAR file attached" and note.case_id == "CW-7"
    assert c.NewCase(title=" t ", customer="c", severity=Severity.SEV1, summary="  ").summary == ""


@pytest.mark.parametrize(("make", "message"), [
    (lambda: c.Note(case_id="CW-1", text=" \t"), "note must not be empty"),
    (lambda: c.Review(case_id="CW-1", notes=""), "notes must not be empty"),
    (lambda: c.ChangeRoute(case_id="CW-1", route="support", reason="  "), "reason must not be empty"),
    (lambda: c.CustomerUpdate(case_id="CW-1", known="k", investigating="i", next_milestone=" "),
     "next milestone must not be empty"),
    (lambda: c.NewCase(title="t", customer="\n", severity=Severity.SEV2), "customer must not be empty"),
    (lambda: c.AddPerson(name=" ", role=Role.AGENT), "name must not be empty"),
])
def test_empty_free_text_names_the_field(make, message):
    with pytest.raises(InvalidInput, match=f"^{message}$"):
        make()


@pytest.mark.parametrize(("enum", "text", "member"), [
    (Severity, " sev2 ", Severity.SEV2), (Severity, "3", Severity.SEV3),
    (Status, "Waiting_On_Customer", Status.WAITING_ON_CUSTOMER), (Role, " LEAD", Role.LEAD),
])
def test_enums_read_what_people_type(enum, text, member):
    assert enum.parse(text) is member


@pytest.mark.parametrize(("enum", "text", "message"), [
    (Severity, "SEV9", "unknown severity 'SEV9': expected one of SEV1, SEV2, SEV3, SEV4"),
    (Status, "done", "unknown status 'done': expected one of new, investigating, waiting_on_customer, mitigated, "
                     "resolved"),
    (Role, "boss", "unknown role 'boss': expected one of lead, agent, specialist, viewer"),
])
def test_unknown_enum_text_says_what_was_expected(enum, text, message):
    with pytest.raises(InvalidInput) as raised:
        enum.parse(text)
    assert str(raised.value) == message
