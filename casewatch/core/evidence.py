"""The evidence checklist: the policy's template, each case's item states, readiness, the route gate
and returning a case for missing context.

Everything here is a pure function of the template, the case's records and the values passed in;
rules call these to decide an event's payload and the projection calls them to apply it, so the
decision (what was missing, whether an override was used) is baked into the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from casewatch.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from casewatch.core.models import Case, EvidenceRecord, EvidenceState, Person, Role, Severity

MAX_VALUE_BYTES = 64 * 1024
LEGACY_KEYS = {"reproduction": "observed", "logs": "attachments"}  # keys of the first, six-item checklist
ALL_SEVERITIES = tuple(Severity)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One entry of the policy's template. An item required only for some routes (`required_for`
    empty, `required_for_routes` set) is on a case's checklist only on those routes."""

    key: str
    label: str
    hint: str = ""
    required_for: tuple[Severity, ...] = ALL_SEVERITIES
    required_for_routes: tuple[str, ...] = ()  # exact routes or patterns such as "specialist:*"

    def required(self, severity: Severity, route: str) -> bool:
        if severity in self.required_for:
            return True
        return bool(self.required_for_routes) and any(fnmatchcase(route, p) for p in self.required_for_routes)

    def shown(self, severity: Severity, route: str) -> bool:
        return bool(self.required_for) or not self.required_for_routes or self.required(severity, route)


DEFAULT_ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem("impact", "Customer & business impact", "Who is affected, how many, since when"),
    ChecklistItem("identifiers", "Identifiers", "Account, tenant, request or trace ids, versions"),
    ChecklistItem("timeline", "Timeline", "First seen, changes, when the customer reported it"),
    ChecklistItem("observed", "Observed vs expected", "Observed against expected behaviour, and steps to reproduce"),
    ChecklistItem("first_checks", "First checks",
                  "Checks already done: status page, logs, known issues, configuration"),
    ChecklistItem("attachments", "Attachments", "Links to logs, screenshots, dashboards",
                  required_for=(Severity.SEV1, Severity.SEV2)),
    ChecklistItem("open_question", "Open question", "The one question the receiving team must answer"),
)


def render_checklist(items: Iterable[ChecklistItem]) -> str:
    """The template as the policy file's [[evidence.items]] tables."""
    def strings(values: Iterable[str]) -> str:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"

    lines = ["", "# The evidence checklist. An item is required for the listed severities, and on the listed",
             '# routes ("specialist:*" matches any team); one with only routes appears on those routes only.']
    for item in items:
        lines += ["", "[[evidence.items]]", f"key = {json.dumps(item.key)}", f"label = {json.dumps(item.label)}",
                  f"hint = {json.dumps(item.hint)}",
                  f"required_for = {strings(s.value for s in item.required_for)}",
                  f"required_for_routes = {strings(item.required_for_routes)}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    """An item as it stands on one case: the template entry, the case's record and whether it counts."""

    item: ChecklistItem
    record: EvidenceRecord
    required: bool

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def state(self) -> EvidenceState:
        return self.record.state


@dataclass(frozen=True, slots=True)
class Readiness:
    """Required items done or na, out of the number required; `missing` names the others (the log's
    word), `partial` those of them that are partly filled in."""

    ready: int
    required: int
    missing: tuple[str, ...]
    partial: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def not_ready(self) -> str:
        """The items not ready, as a lead reads them: "timeline (partial), observed"."""
        return ", ".join(f"{key} (partial)" if key in self.partial else key for key in self.missing)

    def __str__(self) -> str:
        return f"{self.ready}/{self.required}"


def canonical_key(key: str) -> str:
    """Keys are compared trimmed and lower-case; the first checklist's keys map onto the new ones."""
    value = key.strip().lower()
    return LEGACY_KEYS.get(value, value)


def checklist(items: Iterable[ChecklistItem], records: Mapping[str, EvidenceRecord], severity: Severity,
              route: str, *, every_route: bool = False) -> list[ChecklistEntry]:
    """The case's checklist in template order; items the template no longer has but the case has
    filled in stay at the end (optional, labelled by key), so no recorded text ever disappears.
    `every_route` adds the items of other routes, so they can be filled before a route change."""
    entries: list[ChecklistEntry] = []
    known: set[str] = set()
    for item in items:
        known.add(item.key)
        if every_route or item.shown(severity, route) or item.key in records:
            record = records.get(item.key) or _untouched(item.key)
            entries.append(ChecklistEntry(item, record, item.required(severity, route)))
    for key, record in records.items():
        if key not in known:
            entries.append(ChecklistEntry(ChecklistItem(key, key, required_for=()), record, False))
    return entries


@lru_cache(maxsize=256)
def _untouched(key: str) -> EvidenceRecord:
    """The record of an item nobody has filled in (one per key: records are immutable, and a case
    command builds the whole checklist)."""
    return EvidenceRecord(key)


def case_checklist(case: Case, items: Iterable[ChecklistItem], route: str | None = None, *,
                   every_route: bool = False) -> list[ChecklistEntry]:
    """The case's checklist on its own route, or on `route` (what a route change would require)."""
    return checklist(items, case.evidence, case.severity, route or case.route, every_route=every_route)


def case_readiness(case: Case, items: Iterable[ChecklistItem], route: str | None = None) -> Readiness:
    """`readiness(case_checklist(...))` without building the entries: the board asks it per row."""
    route = route or case.route
    records, missing, partial, required = case.evidence, [], [], 0
    for item in items:
        if item.required(case.severity, route):
            required += 1
            record = records.get(item.key)
            if record is None or not record.state.settled:
                missing.append(item.key)
                if record is not None and record.state is EvidenceState.PARTIAL:
                    partial.append(item.key)
    return Readiness(ready=required - len(missing), required=required, missing=tuple(missing), partial=tuple(partial))


def readiness(entries: Iterable[ChecklistEntry]) -> Readiness:
    required = [e for e in entries if e.required]
    missing = tuple(e.key for e in required if not e.state.settled)
    partial = tuple(e.key for e in required if e.state is EvidenceState.PARTIAL)
    return Readiness(ready=len(required) - len(missing), required=len(required), missing=missing, partial=partial)


def case_entry(case: Case, items: Iterable[ChecklistItem], key: str) -> ChecklistEntry:
    """`find_entry` on the case's checklist on every route, building only the entry asked for (every
    evidence change asks for one; the whole checklist is built only to name the valid keys)."""
    wanted = canonical_key(key)
    records = {wanted: case.evidence[wanted]} if wanted in case.evidence else {}
    found = checklist([item for item in items if item.key == wanted], records, case.severity, case.route,
                      every_route=True)
    return find_entry(found or case_checklist(case, items, every_route=True), key, case.id)


def find_entry(entries: list[ChecklistEntry], key: str, case_id: str) -> ChecklistEntry:
    """The entry for `key` (old keys accepted); an unknown key is an error listing the valid ones."""
    wanted = canonical_key(key)
    for entry in entries:
        if entry.key == wanted:
            return entry
    valid = ", ".join(e.key for e in entries)
    raise NotFound(f"{case_id} has no evidence item {key.strip()!r}; valid keys: {valid}")


def check_value(text: str) -> str:
    """Multi-line text with plain newlines, at most 64 KiB of UTF-8."""
    value = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in value:
        raise InvalidInput("evidence text contains a NUL character")
    size = len(value.encode("utf-8"))
    if size > MAX_VALUE_BYTES:
        raise InvalidInput(f"evidence text is {size} bytes; the limit is {MAX_VALUE_BYTES} (64 KiB)")
    return value


# --------------------------------------------------------------------------- setting an item

def decide_set(case_id: str, entry: ChecklistEntry, state: EvidenceState, value: str | None, reason: str | None,
               expect_item_version: int | None) -> dict[str, Any]:
    """The payload of an evidence change. `value`/`reason` None keep what is there; a stale
    `expect_item_version` is a conflict (someone else changed this very item meanwhile)."""
    record = entry.record
    if expect_item_version is not None and expect_item_version != record.version:
        when = record.at.strftime("%Y-%m-%d %H:%M UTC") if record.at else "just now"
        raise Conflict(f"{case_id} evidence {entry.key} was changed by {record.by or 'someone'} at {when} "
                       f"(item version {record.version}, you had {expect_item_version}); nothing was written")
    new_value = record.value if value is None else check_value(value)
    kept = record.reason if state is record.state else ""  # a reason belongs to the state it explains
    new_reason = kept if reason is None else reason.strip()
    if state is EvidenceState.NA and not new_reason:
        raise InvalidInput(f"marking {entry.key} as na needs a reason (--reason)")
    if (state, new_value, new_reason) == (record.state, record.value, record.reason):
        raise InvalidInput(f"evidence {entry.key} on {case_id} is already {state} with that text")
    return {"key": entry.key, "before": record.state.value, "state": state.value, "value": new_value,
            "reason": new_reason, "version": record.version + 1}


def upgrade_set_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An evidence event as written today. The first checklist's events held `before`/`after`
    booleans under the old keys: `after` true meant done, false meant missing again."""
    if "state" in payload:
        return dict(payload)
    upgraded = {"key": canonical_key(payload["key"]), "before": "done" if payload["before"] else "missing",
                "state": (EvidenceState.DONE if payload["after"] else EvidenceState.MISSING).value}
    # what today's events say besides, kept: projection applies the upgraded payload, and the fold
    # compares the same one with what `decide` derives (a `return_cleared` left behind here would be
    # applied from the raw payload while the fold compared None)
    return upgraded | {key: payload[key] for key in ("return_cleared", "via") if key in payload}


def apply_set(records: Mapping[str, EvidenceRecord], payload: Mapping[str, Any], actor: str,
              at: datetime) -> dict[str, EvidenceRecord]:
    p = upgrade_set_payload(payload)
    key = p["key"]
    record = records.get(key) or _untouched(key)
    changed = EvidenceRecord(key, state=EvidenceState(p["state"]), value=p.get("value", record.value),
                             reason=p.get("reason", ""), by=actor, at=at, version=record.version + 1)
    return {**records, key: changed}


def records_at_creation(items: Iterable[Mapping[str, Any]], actor: str, at: datetime) -> dict[str, EvidenceRecord]:
    """Cases opened before item states existed listed their checklist as {key, label, done}."""
    return {canonical_key(i["key"]): EvidenceRecord(canonical_key(i["key"]), EvidenceState.DONE, by=actor, at=at,
                                                    version=1)
            for i in items if i.get("done")}


# --------------------------------------------------------------------------- the route gate

def route_gate(case_id: str, route: str, ready: Readiness, override: str | None, actor: Person) -> dict[str, Any]:
    """What a route change must record about evidence, or why it is refused.

    `ready` is the readiness for the case's severity on the *new* route. `specialist:*` needs every
    required item done or na, unless a lead overrides with a reason; `incident` is never blocked,
    but the missing items go on record; `support` needs nothing."""
    override = (override or "").strip() or None
    if ready.complete or route == "support":
        return {}
    missing = list(ready.missing)
    if route == "incident":
        return {"missing": missing}
    if override is None:
        raise InvalidInput(f"{case_id} cannot go to {route}: required evidence not ready: {ready.not_ready} "
                           f"(fill them in first: `e` on the board, or `casewatch case evidence {case_id} KEY`; "
                           f"or a lead passes the gate with an override reason, --override REASON)")
    if actor.role is not Role.LEAD:
        raise PermissionDenied(f"{actor.name} may not override the evidence gate: it needs a lead")
    return {"missing": missing, "override": override}


# --------------------------------------------------------------------------- returning a case

def returning_team(route: str, actor: Person) -> str | None:
    """The team sending a case back: the specialist team of its route, else the actor's own."""
    return route.split(":", 1)[1] if route.startswith("specialist:") else actor.team


def decide_return(case_id: str, route: str, entries: list[ChecklistEntry], keys: Iterable[str], reason: str,
                  owner: Person | None, team: str | None) -> dict[str, Any]:
    """The payload of a return: the route goes back to support, the named items go back to missing
    with the reason, and an owner from the returning team stops owning it."""
    if route == "support":
        raise InvalidInput(f"{case_id} is already with support; only an escalated case can be returned")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("returning a case needs a reason (--reason)")
    chosen: list[str] = []
    for key in keys:
        if key.strip():
            found = find_entry(entries, key, case_id).key
            if found not in chosen:
                chosen.append(found)
    if not chosen:
        raise InvalidInput("name the missing items to return the case for (--missing KEY[,KEY])")
    clear_owner = owner is not None and team is not None and owner.team == team
    return {"before": route, "after": "support", "missing": chosen, "reason": reason,
            "owner_cleared": owner.name if clear_owner and owner else None}


def apply_return(records: Mapping[str, EvidenceRecord], payload: Mapping[str, Any], actor: str,
                 at: datetime) -> dict[str, EvidenceRecord]:
    """Each returned item is missing again with the reason attached; its text stays to build on."""
    changed = dict(records)
    for key in payload["missing"]:
        record = changed.get(key) or EvidenceRecord(key)
        changed[key] = replace(record, state=EvidenceState.MISSING, reason=payload["reason"], by=actor, at=at,
                               version=record.version + 1)
    return changed
