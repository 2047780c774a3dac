"""Free-text field types: the one home of the rules for text a person types into a command, and
of `visible`, which every human-readable output passes stored text through.

Every free-text field of a command is annotated with a type from here, so a rule about typed text
holds for the CLI, the board and the importers alike:
- no C0/C1 control character and no bidirectional override, in any field;
- no invisible character (zero-width space, joiner and marks, word joiner, BOM, TAG characters) in a
  single-line field, where `AC\u200bME` would pass for ACME; multi-line fields keep them, shown escaped;
- multi-line fields (summary, notes, customer-update text, evidence values, reasons) allow newline
  and tab; single-line fields (title, customer, team, role, display name) allow neither;
- each field has a length limit, the same on every backend, checked before anything is written.
A field with its own rules is one more `Annotated[str, FreeText(...)]` line below.

Text a tracker wrote is not ours to refuse: an import stores it as given (`TrackerTitle`,
`TrackerCustomer`), cut at the same limits by `cut`, and `visible` shows it escaped like any other.
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
# Invisible characters: the Arabic letter mark (a bidi control), zero-width space, non-joiner,
# joiner and the LTR/RTL marks, word joiner and invisible operators, the BOM (zero-width no-break
# space) and the TAG block. They make two texts that look the same differ.
_INVISIBLE = "\u061c\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f"
_ZWJ = "\u200d"
# What an emoji ZWJ sequence joins (👩‍💻, ❤️‍🔥): pictographs, and after one its variation selector
# or skin tone. A joiner between two of these is part of the emoji, so it may stay.
_PICTOGRAPH = re.compile("[\u2190-\u2bff\U0001f000-\U0001faff]")
_EMOJI_PART = re.compile("[\u2190-\u2bff\ufe0f\U0001f000-\U0001faff]")
_REFUSED_IN_LINE = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}{_INVISIBLE}]")
_REFUSED_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}]")
_NOT_SHOWN_AS_IS = re.compile(f"[{_CONTROL}{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}{_INVISIBLE}]")
_NOT_SHOWN_IN_BLOCK = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}{_LINE_SEPARATORS}{_INVISIBLE}]")
_INVISIBLE_CHARS = re.compile(f"[{_INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _in_emoji(match: re.Match[str]) -> bool:
    """A zero-width joiner between two parts of an emoji sequence."""
    text, at = match.string, match.start()
    return (match.group() == _ZWJ and 0 < at < len(text) - 1 and _EMOJI_PART.match(text, at - 1) is not None
            and _PICTOGRAPH.match(text, at + 1) is not None)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    if _in_emoji(match):
        return char
    code = ord(char)
    # \uXXXX from DEL on: the same escape JSON uses, so a JSON document stays valid (and exact) through
    # `visible`; beyond U+FFFF (the TAG block) that is JSON's surrogate pair, \udb40\udc41.
    if code < 0x7F:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def _first_refused(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return next((found for found in pattern.finditer(text) if not _in_emoji(found)), None)


def unseen_removed(text: str) -> str:
    """`text` without its invisible characters: what the filter and the palette match on, so that
    `AC\u200bME` is found by ACME."""
    return _INVISIBLE_CHARS.sub("", text)


def pasted(text: str, *, multiline: bool) -> str:
    """What a paste puts into a field: `text` (its first line, for a one-line field) without the
    characters the field would refuse anyway. A pasted escape sequence would otherwise sit in the
    field, reach the terminal as it is drawn and scramble the screen."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.split("\n", 1)[0]
    refused = _REFUSED_IN_BLOCK if multiline else _REFUSED_IN_LINE
    return refused.sub(lambda found: found.group() if _in_emoji(found) else "", text)


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` safe for a terminal, a table cell or a Markdown export: every control character, bidi
    override, invisible character (but a joiner inside an emoji) or lone surrogate becomes a visible
    escape such as `\\x1b`, `\\u202e` or `\\u200b`. With
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
    found = text_problem(value, multiline=multiline, limit=limit, in_bytes=in_bytes, offset=offset)
    if found is not None:
        raise InvalidInput(f"{label}: {found}")


def text_problem(value: str, *, multiline: bool = False, limit: int | None = None, in_bytes: bool = False,
                 offset: int = 0) -> str | None:
    """What `check_text` would say is wrong with `value`, without the field's name; None when nothing."""
    bad = _first_refused(_REFUSED_IN_BLOCK if multiline else _REFUSED_IN_LINE, value)
    if bad is not None:
        char, position = bad.group(), offset + bad.start() + 1
        what = "bidirectional override" if _BIDI_CHARS.match(char) else (
            "invalid character" if "\ud800" <= char <= "\udfff" else
            "invisible character" if _INVISIBLE_CHARS.match(char) else "control character")
        hint = " (it is a single line)" if char in "\n\r\u2028\u2029" else ""
        return f"{what} U+{ord(char):04X} at position {position} is not allowed{hint}"
    return length_problem(value, limit=limit, in_bytes=in_bytes)


def length_problem(value: str, *, limit: int | None, in_bytes: bool = False) -> str | None:
    """What is wrong with the length of `value` (characters, or `in_bytes` of UTF-8); None when it fits."""
    if limit is None:
        return None
    if in_bytes:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            return f"too long ({size} bytes; the limit is {limit}, {limit // KIB} KiB)"
    elif len(value) > limit:
        return f"too long ({len(value)} characters; the limit is {limit})"
    return None


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
    any_character: bool = False  # only the length is checked (text a tracker wrote: `TrackerTitle`)

    def check(self, value: str, info: ValidationInfo) -> str:
        label = self._label(info)
        if self.multiline:
            value = value.replace("\r\n", "\n")  # text pasted from Windows: its line ends are newlines
        text = value.strip() if self.trim else value  # whitespace around, newlines too, is trimmed, not refused
        if self.required and not text.strip():
            raise InvalidInput(f"{label} must not be empty")
        if self.any_character:
            if found := length_problem(text, limit=self.limit, in_bytes=self.in_bytes):
                raise InvalidInput(f"{label}: {found}")
            return text
        offset = len(value) - len(value.lstrip()) if self.trim else 0
        check_text(text, label, multiline=self.multiline, limit=self.limit, in_bytes=self.in_bytes, offset=offset)
        return text

    def too_long(self, value: str) -> str | None:
        """What is wrong with the length of `value` as stored (naming no field): what `check` returns
        fits its limit as it is, trimmed and with plain line ends, so a stored text is measured whole
        (200 characters of title and 100,000 spaces after them is too long)."""
        return length_problem(value, limit=self.limit, in_bytes=self.in_bytes)

    def _label(self, info: ValidationInfo) -> str:
        return self.label or (info.field_name or "text").replace("_", " ")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self.check, handler(source))


KIB = 1024
LIMITS = {
    "title": 200, "customer": 120, "handle": 40, "display name": 80, "team": 40, "role": 40, "reason": 500,
    "long text": 16 * KIB, "evidence value": 64 * KIB, "policy label": 80, "policy hint": 500,
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

ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """`text` if it fits `limit` characters, else its first `limit - 1` and `…`: a tracker's field
    longer than casewatch keeps (the import notes that it was cut)."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


TrackerTitle = Annotated[str, FreeText(label="title", limit=LIMITS["title"], trim=False, any_character=True)]
"""A title as a tracker wrote it: kept as given (control characters too; `visible` shows them
escaped), only never longer than a title may be."""
TrackerCustomer = Annotated[str, FreeText(label="customer", limit=LIMITS["customer"], trim=False, any_character=True)]

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


_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def check_source_name(name: str) -> str:
    """A source's name (its `[sources.NAME]` table): lower-case letters, digits, '-' or '_', at most 40."""
    if not _SOURCE.fullmatch(name):
        raise InvalidInput(f"bad source name {name!r}: use lower-case letters, digits, '-' or '_' (at most 40)")
    return name


SourceName = Annotated[str, AfterValidator(check_source_name)]
"""The name of a configured tracker source, as the timeline marks what it did (`via zd`)."""


_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,62}")


def check_login(name: str) -> str:
    """A PostgreSQL login (role) name as casewatch accepts it: at most 63 plain characters."""
    if not _LOGIN.fullmatch(name):
        raise InvalidInput(f"bad login {name!r}: a PostgreSQL role name of at most 63 letters, digits, '_', '.', "
                           "'@', '$' or '-'")
    return name


Login = Annotated[str, FreeText(label="login"), AfterValidator(check_login)]
"""A database login that team mode maps to a roster person."""
