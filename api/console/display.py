"""Recorded data as people read it: each key by its label, each value as text (a kind, phase or
priority by its label, a customer by name, yes/no for a flag, a list one item after another)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from api.console.timefmt import Clock
from api.labels import has_label, label
from states.common import MINUTES, MINUTES_FIELDS
from states.machine import SPECS

# Keys whose values are vocabulary terms, and the context of their labels.
TERM_KEYS = {
    "kind": "kind",
    "priority": "priority",
    "state": "phase",
    "category": "choice",
    "relation": "relation",
    "method": "assignment_method",  # a dispatch's: how the team picked its agent
    "meeting_type": "meeting_type",
}
# The fields the kinds declare as times (计划时间, 会议时间, 截止时间, …): shown in the department's zone.
DATETIME_FIELDS = frozenset(
    field.name
    for spec in SPECS.values()
    for field in (*spec.report_fields, *(field for action in spec.actions for field in action.fields))
    if field.type == "datetime"
)
# Keys whose values name people of the directory (a meeting's people), shown by their display names.
PERSON_KEYS = frozenset({"host", "recorder", "participants", "attended", "absent"})
# The key naming one of the case's action items (待办编号), shown by the item's title.
ITEM_KEY = "item_id"


@dataclass(frozen=True)
class Known:
    """What the page knows to name things by: people's display names and the case's action items' titles."""

    people: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)


# A meeting's agenda figures (service/meetings.py): shown as tables of their own (_meeting_agenda.html).
AGENDA_FIGURES = "review"
# How service/handover.py words the reason of each `assign` it makes: "handover: ann → bob".
HANDOVER_REASON = "handover: "


def data_rows(data: dict[str, Any], language: str, clock: Clock | None = None, known: Known | None = None) -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        if value is None or value == "" or value == [] or value == {} or key == AGENDA_FIGURES:
            continue
        if key == "data" and isinstance(value, dict):
            rows += data_rows(value, language, clock, known)  # the report's kind-specific fields
            continue
        rows.append((field_label(key, language), as_text(key, value, language, clock, known)))
    return rows


def case_rows(data: dict[str, Any], language: str, clock: Clock | None = None, known: Known | None = None) -> list[tuple[str, str]]:
    """A case's data in 案件信息: all but its minutes, which have a section of their own (minutes_rows)."""
    return data_rows({key: value for key, value in data.items() if key != MINUTES}, language, clock, known)


def minutes_rows(data: dict[str, Any], language: str, clock: Clock | None = None, known: Known | None = None) -> list[tuple[str, str]]:
    """The published minutes, the parts of seed 000 §4(2) in their order; an incident closed the way of
    API v1 has them as one text (`minutes`), shown as it was given."""
    minutes = data.get(MINUTES)
    if isinstance(minutes, str) and minutes:
        return [(field_label(MINUTES, language), minutes)]
    if not isinstance(minutes, dict):
        return []
    parts = [field.name for field in MINUTES_FIELDS] + [key for key in minutes if key not in {field.name for field in MINUTES_FIELDS}]
    return data_rows({key: minutes[key] for key in parts if key in minutes}, language, clock, known)


def field_label(key: str, language: str) -> str:
    return label(language, "field", key) if has_label(language, "field", key) else key


def as_text(key: str, value: Any, language: str, clock: Clock | None = None, known: Known | None = None) -> str:
    if known is not None and isinstance(value, str):
        if key in PERSON_KEYS and value in known.people:
            return known.people[value]
        if key == ITEM_KEY and value in known.items:
            return known.items[value]
    if clock is not None and key in DATETIME_FIELDS and isinstance(value, str):
        try:
            return clock.when(value)
        except ValueError:
            return value  # not a time after all: shown as recorded
    if isinstance(value, bool):
        return label(language, "console", "yes" if value else "no")
    if key == "customer" and isinstance(value, dict):
        name = " ".join(str(part) for part in (value.get("name"), f"({value['id']})" if value.get("id") else None) if part)
        contacts = "".join(f" · {value[key]}" for key in ("phone", "email") if value.get(key))  # masked already where they must be
        return name + contacts + (" · " + label(language, "priority", "vip") if value.get("vip") else "")
    if key == "rule" and isinstance(value, int) and not isinstance(value, bool):
        return label(language, "console", "rule_number").format(number=value + 1)  # routing counts rules from 0
    if key == "reason" and isinstance(value, str) and value.startswith(HANDOVER_REASON):
        return label(language, "console", "handover_reason").format(detail=value.removeprefix(HANDOVER_REASON))
    if key in TERM_KEYS and isinstance(value, str) and has_label(language, TERM_KEYS[key], value):
        return label(language, TERM_KEYS[key], value)
    if isinstance(value, list):
        return "\n".join(as_text(key, item, language, clock, known) for item in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(name, language)}: {as_text(name, item, language, clock, known)}" for name, item in value.items() if item not in (None, "")
        )
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
