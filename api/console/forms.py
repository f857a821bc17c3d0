"""The console's forms, made from the machines' declarations (states/spec.py): a field an action
declares appears in its form with its label, type, choices and whether it is required, so a new
action or field needs no template change. Submitted text is turned back into the data the API takes;
the state machine still decides what is allowed (a blank required field reaches it and is refused
there, in the same words as over the API).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.console.timefmt import Clock
from api.labels import has_label, label
from states.spec import OPEN_ACTION_ITEM, PRIORITIES, Field
from states.vocabulary import CUSTOMER_KINDS, RefusalCode

# The report's own fields (states/opening.py Report), before the kind's declared ones; the customer's
# only for the kinds about a customer (CUSTOMER_KINDS), not for meetings or plans.
CASE_BASICS = (
    Field("title", max_length=500),
    Field("description"),
    Field("priority", choices=tuple(PRIORITIES), required=False),
)
CUSTOMER_BASICS = (
    Field("customer_name", required=False, max_length=200),
    Field("customer_id", required=False, max_length=200),
    Field("customer_vip", "boolean", required=False),
)
REPORT_BASICS = CASE_BASICS + CUSTOMER_BASICS


def report_basics(kind: str) -> tuple[Field, ...]:
    return REPORT_BASICS if kind in CUSTOMER_KINDS else CASE_BASICS


NOTE = Field("note", required=False)
# Keys of a case's data that hold a time (a prefilled datetime-local input shows the department's wall time).
TIME_KEYS = frozenset({"scheduled_at", "held_at", "occurred_at", "due"})
LONG_TEXT = 500  # a text field allowed more than this many characters is a text area


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, select, number, datetime, lines, checkbox
    required: bool
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


@dataclass
class Submission:
    """What a form sent: the data for the API, and the fields it could not even read."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def form_fields(
    fields: tuple[Field, ...], language: str, case: dict[str, Any] | None = None, named: dict[str, tuple[Choice, ...]] | None = None
) -> list[FormField]:
    """`named`: the choices for fields naming people or teams of the department (spec.USER, spec.TEAM)."""
    return [_form_field(spec, language, case, named or {}) for spec in fields]


def _form_field(spec: Field, language: str, case: dict[str, Any] | None, named: dict[str, tuple[Choice, ...]]) -> FormField:
    choices: tuple[Choice, ...] = ()
    if spec.names in named:
        choices = named[spec.names]
    elif spec.names == OPEN_ACTION_ITEM and case is not None:
        choices = tuple(Choice(item["id"], f"{item['title']} · {item['owner']}") for item in case.get("action_items", []) if not item.get("done"))
    elif spec.choices:
        choices = tuple(Choice(value, choice_label(language, spec.name, value)) for value in spec.choices)
    elif spec.type == "boolean":
        choices = (Choice("true", label(language, "console", "yes")), Choice("false", label(language, "console", "no")))
    widget = {
        "boolean": "select",
        "number": "number",
        "integer": "number",
        "datetime": "datetime",
        "string_list": "lines",
    }.get(spec.type, "select" if choices else ("textarea" if spec.max_length > LONG_TEXT else "text"))
    if spec.type == "boolean" and not spec.required:
        widget = "checkbox"
    return FormField(
        spec.name,
        label(language, "field", spec.name),
        widget,
        spec.required,
        choices,
        spec.minimum,
        spec.maximum,
        spec.max_length if spec.type in ("string", "string_list") else None,
    )


def choice_label(language: str, field_name: str, value: str) -> str:
    if field_name == "priority":
        return label(language, "priority", value)
    return label(language, "choice", value) if has_label(language, "choice", value) else value


def read_form(fields: list[FormField], form: dict[str, str], clock: Clock) -> Submission:
    """The typed data of a submitted form; a blank optional field is left out, a blank required one
    is left for the machine to refuse."""
    submission = Submission()
    for spec in fields:
        text = (form.get(spec.name) or "").strip() if spec.widget != "textarea" else form.get(spec.name) or ""
        if spec.widget == "checkbox":
            submission.data[spec.name] = spec.name in form
            continue
        if not text.strip():
            continue
        try:
            submission.data[spec.name] = _value(spec, text, clock)
        except ValueError:
            submission.errors[spec.name] = RefusalCode.WRONG_TYPE
    return submission


def _value(spec: FormField, text: str, clock: Clock) -> Any:
    if spec.widget == "number":
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(text)
        return int(number) if number.is_integer() else number
    if spec.widget == "datetime":
        # datetime-local sends the wall time; it is the department's.
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=clock.zone)
        return moment.isoformat()
    if spec.widget == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if spec.choices and {choice.value for choice in spec.choices} == {"true", "false"}:
        return text == "true"
    return text


def prefilled_values(prefill: tuple[tuple[str, str], ...], data: dict[str, Any], clock: Clock) -> dict[str, str]:
    """An action's form as it starts (Action.prefill): each field from the case's data, as its input shows it."""
    values = {}
    for name, key in prefill:
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list):
            values[name] = "\n".join(str(item) for item in value)
        elif isinstance(value, str) and key in TIME_KEYS:
            values[name] = clock.local_input(value)
        else:
            values[name] = str(value)
    return values
