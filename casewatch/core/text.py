"""Free-text field types: the one home of the rules for text a person types into a command.

Every free-text field of a command is annotated with a type from here, so a rule about typed text
(trimming, emptiness; later control characters and lengths per field) is written once and holds
for the CLI, the board and the importers alike. A new rule is a new parameter of `FreeText`; a
field with its own limits is one more `Annotated[str, FreeText(...)]` line below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, ValidationInfo
from pydantic_core import core_schema

from casewatch.core.errors import InvalidInput


@dataclass(frozen=True)
class FreeText:
    """How one free-text field is checked. `label` is what errors call the field (default: its
    name, underscores as spaces); `required` rejects text that is empty once trimmed."""

    label: str | None = None
    required: bool = True

    def check(self, value: str, info: ValidationInfo) -> str:
        text = value.strip()
        if self.required and not text:
            raise InvalidInput(f"{self._label(info)} must not be empty")
        return text

    def _label(self, info: ValidationInfo) -> str:
        return self.label or (info.field_name or "text").replace("_", " ")

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self.check, handler(source))


NonEmpty = Annotated[str, FreeText()]
"""Text that must say something once trimmed; errors name the field."""

OptionalText = Annotated[str, FreeText(required=False)]
"""Text that may be empty; it is stored trimmed."""

NoteText = Annotated[str, FreeText(label="note")]
"""The text of a timeline note (its field is `text`; people call it the note)."""


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def visible(text: str) -> str:
    """Text safe to show anywhere: control and direction-changing characters become visible
    escapes (\\x1b, \\u202e), tabs four spaces, CRLF a newline. Newlines stay."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)
