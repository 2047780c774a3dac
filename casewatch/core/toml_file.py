"""A TOML file read into pydantic models, every problem reported as `file:line: key.path: what is wrong`.

Pydantic validates the whole file and collects every problem. Values are checked by the domain's
own parsers (`rule`), whose messages are reported as they are; pydantic's structural findings (an
unknown key, a missing one, a value that should be a table) are said in the words of the table
they belong to (`TomlTable.explain`). `locate` finds each problem's line in the text. A file with
any problem yields nothing, so nothing of it is ever half-applied.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from casewatch.core.errors import CasewatchError, FileInvalid

Table = TypeVar("Table", bound="TomlTable")

_OWN = "casewatch"  # the pydantic error type of a problem worded by casewatch
_KINDS = {"extra_forbidden": "unknown", "missing": "missing", "model_type": "not_a_table", "dict_type": "not_a_table"}


def problem(message: str) -> PydanticCustomError:
    """A problem in casewatch's own words; pydantic reports it verbatim."""
    return PydanticCustomError(_OWN, "{message}", {"message": message})


def rule(check: Callable[[Any], Any]) -> PlainValidator:
    """Validate a value with a domain parser: the message of what it raises is the problem reported."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except (CasewatchError, ValueError, TypeError) as exc:
            raise problem(str(exc)) from None

    return PlainValidator(run)


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


Text = Annotated[str, rule(string)]


class TomlTable(BaseModel):
    """One table of a TOML file: an unknown key is a problem, and nothing changes once it is read.
    Built on first use: a process reads one or two of the files these tables describe."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    @classmethod
    def explain(cls, kind: str, key: str) -> str:
        """What is wrong with `key` of this table: it is `unknown`, `missing` or `not_a_table`."""
        if kind == "unknown":
            return f"unknown key (expected one of {', '.join(sorted(cls.model_fields))})"
        if kind == "missing":
            return "required field is missing"
        return "must be a table"


MAX_FILE_BYTES = 1024 * 1024
"""The most a policy or config file may hold: every command reads the config, and the policy in force."""


def load_toml(text: str, source_name: str, invalid: type[FileInvalid] = FileInvalid, *,
              limit: int | None = MAX_FILE_BYTES) -> dict[str, Any]:
    """The TOML document `text`, or `invalid` in one line (not TOML, or over `limit` bytes of UTF-8)."""
    if limit is not None and len(text) > limit // 4 and (size := len(text.encode("utf-8", "surrogatepass"))) > limit:
        raise invalid([f"{source_name}: too large ({size:,} bytes; a policy or config file may hold at most "
                       f"{limit // (1024 * 1024)} MB)"])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise invalid([f"{source_name}: not valid TOML: {exc}"]) from None


def validate(model: type[Table], data: dict[str, Any], text: str, source_name: str, *,
             invalid: type[FileInvalid] = FileInvalid, context: dict[str, Any] | None = None) -> Table:
    """`data` (read from `text`) as `model`, or `invalid` listing every problem in the order of the file."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        lines = text.splitlines()
        found = [_describe(model, error, lines) for error in exc.errors()]
        found.sort(key=lambda item: item[0] or len(lines) + 1)  # stable: unlocated ones keep pydantic's order
        raise invalid([_where(source_name, line) + message for line, message in found]) from None


def read_toml(model: type[Table], text: str, source_name: str, *, invalid: type[FileInvalid] = FileInvalid) -> Table:
    return validate(model, load_toml(text, source_name, invalid), text, source_name, invalid=invalid)


def _where(source_name: str, line: int | None) -> str:
    return f"{source_name}:{line}: " if line else f"{source_name}: "


def _describe(root: type[TomlTable], error: ErrorDetails, lines: Sequence[str]) -> tuple[int | None, str]:
    """(line, "key.path: what is wrong") for one pydantic error."""
    loc = error["loc"]
    path = [str(part) for part in loc if isinstance(part, str) and part != "[key]"]
    kind = _KINDS.get(error["type"])
    if error["type"] == _OWN or kind is None or not path:
        message = error["msg"]
    else:
        message = _table_holding(root, loc).explain(kind, path[-1])
    shown = ".".join(part if part.isprintable() else repr(part) for part in path)
    return locate(lines, loc), f"{shown}: {message}" if shown else message


def _table_holding(root: type[TomlTable], loc: tuple[int | str, ...]) -> type[TomlTable]:
    """The table model whose key is the last part of `loc`, found by following the models' fields
    (through optional tables, arrays of tables and tables of tables)."""
    table, parts = root, iter(part for part in loc[:-1] if isinstance(part, str))
    for part in parts:
        field = table.model_fields.get(part)
        if field is None:
            break
        inner = field.annotation
        if get_origin(inner) is dict:  # a table of tables: the next part names one of them
            inner = get_args(inner)[1]
            if next(parts, None) is None:
                break
        found = next((t for t in (inner, *get_args(inner)) if isinstance(t, type) and issubclass(t, TomlTable)), None)
        if found is None:
            break
        table = found
    return table


def _key(name: str) -> str:
    quoted = re.escape(name)
    return rf"""(?:{quoted}|"{quoted}"|'{quoted}')"""


def locate(lines: Sequence[str], loc: Sequence[int | str]) -> int | None:
    """Best-effort line of a pydantic location: the longest [table] (or the n-th [[array]] table)
    header on its path, then the key in that table."""
    path = [part for part in loc if isinstance(part, str) and part != "[key]"]
    for depth in range(len(path), 0, -1):
        header = re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(_key(p) for p in path[:depth]) + r"\s*\]\]?")
        starts = [i for i, text in enumerate(lines) if header.match(text)]
        if starts:
            start = starts[min(_array_index(loc, depth), len(starts) - 1)]
            if depth == len(path):
                return start + 1
            return _key_line(lines, start + 1, path[depth]) or start + 1
    return _key_line(lines, 0, path[0]) if path else None


def _array_index(loc: Sequence[int | str], depth: int) -> int:
    """Which entry of an array of tables `loc` names right after its first `depth` keys (0 if none)."""
    keys = 0
    for i, part in enumerate(loc):
        if isinstance(part, str):
            keys += 1
            if keys == depth:
                following = loc[i + 1] if i + 1 < len(loc) else None
                return following if isinstance(following, int) else 0
    return 0


def _key_line(lines: Sequence[str], start: int, key: str) -> int | None:
    """The line of `key = …` in the table that begins at `start` (the top level when 0)."""
    pattern = re.compile(r"^\s*" + _key(key) + r"\s*=")
    for i in range(start, len(lines)):
        if lines[i].lstrip().startswith("["):
            return None
        if pattern.match(lines[i]):
            return i + 1
    return None
