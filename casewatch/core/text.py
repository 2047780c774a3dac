"""Free-text field types: the one home of the rules for text a person types into a command, and
of `visible`, which every human-readable output passes stored text through.

Every free-text field of a command is annotated with a type from here, so a rule about typed text
holds for the CLI, the board and the importers alike:
- no C0/C1 control character and no bidirectional override, in any field;
- multi-line fields (summary, notes, customer-update text, evidence values, reasons) allow newline
  and tab; single-line fields (title, customer, team, role, display name) allow neither;
- each field has a length limit, the same on every backend, checked before anything is written.
A field with its own rules is one more `Annotated[str, FreeText(...)]` line below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler, ValidationInfo
from pydantic_core import core_schema

from casewatch.core.errors import InvalidInput

# Bidirectional embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069): they reorder
# what a reader sees, so "CW-1001 resolved" can display as something else.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = "\x00-\x1f\x7f-\x9f"
_SURROGATE = "\ud800-\udfff"  # never text: undecodable input, and unencodable as UTF-8
_LINE_SEPARATORS = "\u2028\u2029"  # break lines in some terminals and every browser
_MARKS = "\u200e\u200f"  # left-to-right and right-to-left marks: allowed in text, shown as escapes
_REFUSED_IN_LINE = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}]")
_REFUSED_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}]")
_NOT_SHOWN_AS_IS = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}{_MARKS}]")
_NOT_SHOWN_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}{_MARKS}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    # \uXXXX from DEL on: the same escape JSON uses, so a JSON document stays valid through `visible`.
    return f"\\x{code:02x}" if code < 0x7F else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` safe for a terminal, a table cell or a Markdown export: every control character, bidi
    override or lone surrogate becomes a visible escape such as `\\x1b` or `\\u202e`. With
    `multiline`, newlines are kept (a note shown as a block; CRLF becomes a newline, a tab four
    spaces); otherwise they are escaped too, so one value can never become two rows. Use it for
    every human-readable output of stored or user-given text (the CLI, the TUI, Markdown); JSON
    output keeps the exact text instead."""
    if not multiline:
        return _NOT_SHOWN_AS_IS.sub(_escape, text)
    return _NOT_SHOWN_IN_BLOCK.sub(_escape, text.replace("\r\n", "\n").replace("\t", "    "))


def counted(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, plural unless one (`many`, default noun + "s"): "1 open case", "2 open cases"."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


_BIDI_CHARS = re.compile(f"[{_BIDI}]")


def check_text(value: str, label: str, *, multiline: bool = False, limit: int | None = None,
               in_bytes: bool = False, offset: int = 0) -> None:
    """Raise InvalidInput naming the field and the first character it may not hold (its position
    counted from 1, plus `offset` characters trimmed before `value`), or the field's limit: in
    characters, or `in_bytes` of UTF-8 (the limits given in KiB)."""
    bad = (_REFUSED_IN_BLOCK if multiline else _REFUSED_IN_LINE).search(value)
    if bad is not None:
        char, position = bad.group(), offset + bad.start() + 1
        what = "bidirectional override" if _BIDI_CHARS.match(char) else (
            "invalid character" if "\ud800" <= char <= "\udfff" else "control character")
        hint = " (it is a single line)" if char in "\n\r\u2028\u2029" else ""
        raise InvalidInput(f"{label}: {what} U+{ord(char):04X} at position {position} is not allowed{hint}")
    if limit is None:
        return
    if in_bytes:
        size = len(value.encode("utf-8"))
        if size > limit:
            raise InvalidInput(f"{label}: too long ({size} bytes; the limit is {limit}, {limit // KIB} KiB)")
    elif len(value) > limit:
        raise InvalidInput(f"{label}: too long ({len(value)} characters; the limit is {limit})")


@dataclass(frozen=True)
class FreeText:
    """How one free-text field is checked. `label` is what errors call the field (default: its
    name, underscores as spaces); `required` rejects text that is empty once trimmed; `multiline`
    allows newline and tab; `limit` is the most characters it may hold; `trim` strips whitespace around."""

    label: str | None = None
    required: bool = True
    multiline: bool = False
    limit: int | None = None
    trim: bool = True
    in_bytes: bool = False

    def check(self, value: str, info: ValidationInfo) -> str:
        label = self._label(info)
        if self.multiline:
            value = value.replace("\r\n", "\n")  # text pasted from Windows: its line ends are newlines
        text = value.strip() if self.trim else value  # whitespace around, newlines too, is trimmed, not refused
        if self.required and not text.strip():
            raise InvalidInput(f"{label} must not be empty")
        offset = len(value) - len(value.lstrip()) if self.trim else 0
        check_text(text, label, multiline=self.multiline, limit=self.limit, in_bytes=self.in_bytes, offset=offset)
        return text

    def _label(self, info: ValidationInfo) -> str:
        return self.label or (info.field_name or "text").replace("_", " ")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self.check, handler(source))


KIB = 1024
LIMITS = {
    "title": 200, "customer": 120, "handle": 40, "display name": 80, "team": 40, "role": 40, "reason": 500,
    "long text": 16 * KIB, "evidence value": 64 * KIB,
}
"""Size limits: in characters, but "long text" (summary, notes, each customer-update field) and the
evidence value in bytes of UTF-8 (16 and 64 KiB)."""

NonEmpty = Annotated[str, FreeText()]
"""One line that must say something once trimmed; errors name the field."""

OptionalText = Annotated[str, FreeText(required=False)]
"""One line that may be empty; it is stored trimmed."""

Title = Annotated[str, FreeText(limit=LIMITS["title"])]
Customer = Annotated[str, FreeText(limit=LIMITS["customer"])]
Summary = Annotated[str, FreeText(required=False, multiline=True, limit=LIMITS["long text"], in_bytes=True)]
LongText = Annotated[str, FreeText(multiline=True, limit=LIMITS["long text"], in_bytes=True)]
"""A note, review notes, each field of a customer update: multi-line, up to 16 KiB."""
NoteText = Annotated[str, FreeText(label="note", multiline=True, limit=LIMITS["long text"], in_bytes=True)]
"""The text of a timeline note (its field is `text`; people call it the note)."""
Reason = Annotated[str, FreeText(multiline=True, limit=LIMITS["reason"])]
HandoffNote = Annotated[str, FreeText(label="note", required=False, multiline=True, limit=LIMITS["long text"],
                                      in_bytes=True)]
"""A handoff's note, for the whole shift or one case: multi-line, may be empty, up to 16 KiB."""
Lesson = Annotated[str, FreeText(label="lesson", required=False, multiline=True, limit=LIMITS["long text"],
                                 in_bytes=True)]
ReviewNotes = Annotated[str, FreeText(label="notes", required=False, multiline=True, limit=LIMITS["long text"],
                                      in_bytes=True)]
OptionalReason = Annotated[str, FreeText(label="reason", required=False, multiline=True, limit=LIMITS["reason"])]
EvidenceValue = Annotated[str, FreeText(label="value", required=False, multiline=True,
                                        limit=LIMITS["evidence value"], in_bytes=True, trim=False)]
"""What was found for a checklist item, kept exactly as typed (up to 64 KiB)."""
CaseRole = Annotated[str, FreeText(label="role", limit=LIMITS["role"])]
DisplayName = Annotated[str, FreeText(label="display name", required=False, limit=LIMITS["display name"])]

HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")


def is_handle(name: str) -> bool:
    """Person names are handles: lower-case ASCII letters and digits, then also '.', '_' or '-'; at most
    40. No look-alikes (a Cyrillic "е" is not an "e"), no spaces, nothing a terminal could act on."""
    return HANDLE.fullmatch(name) is not None


RESERVED = frozenset({"casewatch", "postgres", "root", "admin", "system"})
"""Names nobody on a roster may take: the author the server trusts as the system, the database's
own superuser and the usual administrators' names; also every name starting with `casewatch_`
(the PostgreSQL roles casewatch creates) or `pg_` (PostgreSQL's own)."""


def is_reserved(name: str) -> bool:
    folded = name.strip().lower()
    return folded in RESERVED or folded.startswith(("casewatch_", "pg_"))


def check_free_handle(name: str, label: str = "name") -> str:
    """`check_handle`, and not a reserved name: what a name put on a roster must be (a new
    personal database's first lead, named after the OS user, may still be `root`)."""
    if is_reserved(name):
        raise InvalidInput(f"{label}: {name!r} is reserved (casewatch, postgres, root, admin, system and names "
                           "starting with casewatch_ or pg_ belong to the system); choose another name")
    return check_handle(name, label)


def check_handle(name: str, label: str = "name") -> str:
    """`name` if it is a handle, else InvalidInput saying what a handle is (and the likely one meant)."""
    check_text(name, label, limit=LIMITS["handle"])
    if not is_handle(name):
        suggestion = name.strip().lower()
        hint = f" (did you mean {suggestion!r}?)" if is_handle(suggestion) else ""
        raise InvalidInput(f"{label}: {name!r} is not a handle: use lower-case ASCII letters, digits, '.', '_' "
                           f"or '-', starting with a letter or digit{hint}")
    return name


Handle = Annotated[str, FreeText(label="name", limit=LIMITS["handle"]), AfterValidator(check_free_handle)]
"""A new person's name (legacy names already on a roster keep working; see `people rename`)."""


_TEAM = re.compile(r"[a-z0-9][a-z0-9_-]*")


def check_team(name: str) -> str:
    if not _TEAM.fullmatch(name):
        raise InvalidInput(f"bad team name {name!r}: use lower-case letters, digits, '-' or '_'")
    return name


Team = Annotated[str, FreeText(label="team", limit=LIMITS["team"]), AfterValidator(check_team)]
"""A team name: lower-case kebab (it also names a specialist route), at most 40."""


_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,62}")


def check_login(name: str) -> str:
    """A PostgreSQL login (role) name as casewatch accepts it: at most 63 plain characters."""
    if not _LOGIN.fullmatch(name):
        raise InvalidInput(f"bad login {name!r}: a PostgreSQL role name of at most 63 letters, digits, '_', '.', "
                           "'@', '$' or '-'")
    return name


Login = Annotated[str, FreeText(label="login"), AfterValidator(check_login)]
"""A database login that team mode maps to a roster person."""
