"""How a kind is declared: its fields, guards and actions (the words themselves: states/vocabulary.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from states.case import Authority, CaseState, Report, format_time, parse_time
from states.errors import InvalidData
from states.vocabulary import Kind, MessageKind, Phase, Priority, RefusalCode, Relation, Role, SystemAction

PHASES = list(Phase)
ROLES = list(Role)
# A manager may do everything a supervisor may (across all teams: states/ownership.py).
AGENT_AND_SUPERVISOR = (Role.AGENT, Role.SUPERVISOR, Role.MANAGER)
SUPERVISOR = (Role.SUPERVISOR, Role.MANAGER)
PRIORITIES = list(Priority)
# What a complaint or feedback is about; the KPIs group by it.
CASE_CATEGORIES = ("product_quality", "service_process", "account", "logistics", "other")

MAX_TEXT = 20_000
# A field whose value is the id of one of the case's open action items.
OPEN_ACTION_ITEM = "open_action_item"
# A field whose value is the name of an enabled user of the directory, or of a team (the service checks them).
USER = "user"
TEAM = "team"
MAX_LIST = 200
# Keys a kind does not declare are kept with the case, within these bounds.
MAX_EXTRA_KEYS = 50
MAX_DEPTH = 4
MAX_KEY_LENGTH = 100
# Figures the service measures for an action (Context.measured) and records with its event.
MEASURED_KEYS = frozenset({"baseline_measured", "measured_after", "measured_after_value"})
# Keys of a case's data that the machine itself writes (states/machine.py effects).
MACHINE_KEYS = frozenset({"causes", "reopen_reason", "satisfied", "score", "minutes_published_at"}) | MEASURED_KEYS


@dataclass(frozen=True)
class Field:
    """One datum an action takes. `type` is a JSON-schema type name, or `datetime`."""

    name: str
    type: str = "string"
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = MAX_TEXT
    # What the value names, when it is one of the case's own things (the console offers them as choices).
    names: str | None = None

    def clean(self, value: Any, path: str) -> Any:
        checker = _CHECKERS[self.type]
        return checker(self, value, path)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.choices:
            described["choices"] = list(self.choices)
        if self.minimum is not None:
            described["minimum"] = self.minimum
        if self.maximum is not None:
            described["maximum"] = self.maximum
        if self.names is not None:
            described["names"] = self.names
        return described


def _check_string(spec: Field, value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidData(path, "must be a string", RefusalCode.WRONG_TYPE)
    if spec.required and not value.strip():
        raise InvalidData(path, "must not be blank", RefusalCode.MISSING_FIELD)
    if len(value) > spec.max_length:
        raise InvalidData(path, f"must be at most {spec.max_length} characters")
    if spec.choices and value not in spec.choices:
        raise InvalidData(path, f"must be one of: {', '.join(spec.choices)}")
    return value


def _check_boolean(spec: Field, value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidData(path, "must be true or false", RefusalCode.WRONG_TYPE)
    return value


def _check_number(spec: Field, value: Any, path: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidData(path, "must be a number", RefusalCode.WRONG_TYPE)
    if spec.type == "integer" and not float(value).is_integer():
        raise InvalidData(path, "must be a whole number")
    if spec.minimum is not None and value < spec.minimum:
        raise InvalidData(path, f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise InvalidData(path, f"must be at most {spec.maximum:g}")
    return int(value) if spec.type == "integer" else value


def _check_datetime(spec: Field, value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidData(path, "must be an RFC 3339 time string", RefusalCode.WRONG_TYPE)
    try:
        return format_time(parse_time(value))
    except ValueError as error:
        raise InvalidData(path, f"must be an RFC 3339 time with offset ({error})") from None


def _check_string_list(spec: Field, value: Any, path: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise InvalidData(path, f"must be a list of at most {MAX_LIST} strings", RefusalCode.WRONG_TYPE)
    item_spec = Field(spec.name, "string", required=False, max_length=spec.max_length)
    return [_check_string(item_spec, item, f"{path}[{index}]") for index, item in enumerate(value)]


_CHECKERS: dict[str, Callable[[Field, Any, str], Any]] = {
    "string": _check_string,
    "boolean": _check_boolean,
    "number": _check_number,
    "integer": _check_number,
    "datetime": _check_datetime,
    "string_list": _check_string_list,
}


def clean_data(
    fields: tuple[Field, ...], data: dict[str, Any] | None, prefix: str = "data", reserved: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Check `data` against `fields`; return the known fields cleaned, unknown keys kept as given.

    An undeclared key may not be one of `reserved`: keys other actions record or the machine keeps
    (a cause list smuggled in with another action would satisfy a guard)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidData(prefix, "must be an object", RefusalCode.WRONG_TYPE)
    data = dict(data)
    declared = {spec.name for spec in fields}
    extra = [key for key in data if key not in declared]
    if len(extra) > MAX_EXTRA_KEYS:
        raise InvalidData(prefix, f"may hold at most {MAX_EXTRA_KEYS} undeclared keys")
    for key in extra:
        if key in reserved:
            raise InvalidData(f"{prefix}.{key}", "is recorded by the case's own actions and cannot be given here")
        _check_free_form(data[key], f"{prefix}.{key}", 1)
    for spec in fields:
        path = f"{prefix}.{spec.name}"
        if data.get(spec.name) is None:
            if spec.required:
                raise InvalidData(path, "is required", RefusalCode.MISSING_FIELD)
            data.pop(spec.name, None)
            continue
        data[spec.name] = spec.clean(data[spec.name], path)
    return data


def _check_free_form(value: Any, path: str, depth: int) -> None:
    """Undeclared data is kept as given, but bounded: depth, sizes, and JSON types only."""
    if depth > MAX_DEPTH:
        raise InvalidData(path, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise InvalidData(path, f"must be at most {MAX_TEXT} characters")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidData(path, "must be a finite number")
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            raise InvalidData(path, f"must hold at most {MAX_LIST} items")
        for index, item in enumerate(value):
            _check_free_form(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_EXTRA_KEYS:
            raise InvalidData(path, f"must hold at most {MAX_EXTRA_KEYS} keys")
        for key, item in value.items():
            if len(key) > MAX_KEY_LENGTH:
                raise InvalidData(path, f"keys must be at most {MAX_KEY_LENGTH} characters")
            _check_free_form(item, f"{path}.{key}", depth + 1)
    elif not (value is None or isinstance(value, (bool, int))):
        raise InvalidData(path, "must be JSON")


@dataclass(frozen=True)
class Guard:
    """A condition on the case that must hold for an action; `check` reads, never writes."""

    name: str
    description: str
    check: Callable[[CaseState, Context], bool]


@dataclass(frozen=True)
class Branch:
    """An action whose destination depends on a boolean field of its data."""

    field: str
    when_true: str
    when_false: str


# What an action does to the case beyond moving its phase: takes the cleaned data, returns what the
# event records.
Effect = Callable[[CaseState, dict[str, Any], "Context"], dict[str, Any]]
# Completes or refuses the cleaned data against the case before anything changes.
Prepare = Callable[[CaseState, dict[str, Any]], dict[str, Any]]


def merge_data(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The usual effect: the action's data joins the case's data."""
    case.data.update(data)
    return data


def record_only(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The event records the data; the case's data stays as it was."""
    return data


class ClockChange(Enum):
    """What an action does to the case's service-level clocks beyond what its phase change does."""

    RESTART = "restart"  # a new cycle: every clock starts again
    RETARGET = "retarget"  # each live clock keeps the time it used and gets its new budget


@dataclass(frozen=True)
class Opens:
    """The case an action opens, linked both ways; the workflow starts it after the action."""

    kind: Kind
    id_field: str  # the action's data field naming the new case; the workflow fills it in
    relation: Relation  # what the new case is to this one
    back: Relation  # what this case is to the new one
    report: Callable[[CaseState, dict[str, Any]], Report]
    # The caller may name an open case of that kind to join instead (the workflow then only links).
    may_join_open: bool = False


@dataclass(frozen=True)
class Tells:
    """A notice an action sends to the cases linked to this one by `relation`."""

    notice: SystemAction
    relation: Relation
    data: Callable[[CaseState, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Action:
    """One action of a kind, and everything it does: a newcomer reads this and knows the action."""

    name: str
    source: tuple[str, ...]
    dest: str | None = None  # None: the phase stays ("self")
    roles: tuple[str, ...] = AGENT_AND_SUPERVISOR
    fields: tuple[Field, ...] = ()
    guards: tuple[Guard, ...] = ()
    branch: Branch | None = None
    description: str = ""
    prepare: Prepare | None = None
    effect: Effect = merge_data
    # Keys its effect adds to the data it records, beyond what its caller gave.
    adds: frozenset[str] = frozenset()
    # Counts as the first response to the customer (stops the first-response clock).
    first_response: bool = False
    # Its `reply` flag makes it a response to the customer (states/service_times.py).
    replies: bool = False
    # Given the action's data, whether the customer contacted us (a response is owed from then on).
    customer_contact: Callable[[dict[str, Any]], bool] | None = None
    clocks: ClockChange | None = None
    opens: Opens | None = None
    tells: Tells | None = None
    # Whether its event goes to the webhook (workflows/notifications.py).
    notifies: bool = False
    # What people are told when it is taken (CASEWORK_NOTIFICATIONS rules say whom).
    message: MessageKind | None = None
    # Meets this service-level target (stops its clock): `publish_minutes` meets "minutes", the clock
    # that starts when a meeting is held (the case enters analyse) and times the minutes' deadline.
    meets_target: str | None = None
    # The system takes it by itself when this service-level target is breached (for the policy's
    # auto-escalate priorities and VIP customers).
    taken_on_breach: str | None = None
    # The service measures the case's KPI over the cases reported since this action was last taken,
    # and records the figures with the event (an improvement plan's after-value).
    measures_since: str | None = None
    # A case it closes counts as dismissed in the KPIs, not as resolved (docs/kpis.md).
    dismisses: bool = False
    # A supervisor may take it on several selected cases at once (the console's bulk actions).
    in_bulk: bool = False
    # Only the case's owner, its team's supervisors and managers may take it, when the department's
    # ownership rule is on (states/ownership.py); a comment or a claim is anyone's.
    owners_only: bool = True
    # The person taking it becomes the owner of the unowned case (认领: states/ownership.py says who may).
    claims: bool = False
    # An agent may take it only when the case's data names them under one of these keys (a meeting's
    # host or recorder: states/ownership.py); supervisors and managers always may.
    attendees_only: tuple[str, ...] = ()
    # Only a person the directory knows may take it: its effect names them (take_host).
    by_person: bool = False
    # What its form starts with, as pairs (field, key of the case's data): the minutes' host, place,
    # time and agenda are the ones the meeting was planned with until the recorder changes them.
    prefill: tuple[tuple[str, str], ...] = ()

    def destinations(self) -> list[str | None]:
        if self.branch:
            return [self.branch.when_true, self.branch.when_false]
        return [self.dest]


@dataclass(frozen=True)
class KindSpec:
    kind: str
    description: str
    report_fields: tuple[Field, ...]
    actions: tuple[Action, ...]
    create_roles: tuple[str, ...] = AGENT_AND_SUPERVISOR
    # What people are told when a case of this kind is reported (an emergency raised, a meeting scheduled).
    report_message: MessageKind | None = None
    # Whether the department's routing sends a new case of this kind to a team (a regular meeting is everyone's).
    routed: bool = True
    by_name: dict[str, Action] = field(init=False, repr=False, compare=False)
    # Data keys only the kind's own fields and the machine may write.
    reserved_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {action.name: action for action in self.actions})
        declared = {field.name for action in self.actions for field in action.fields} | {field.name for field in self.report_fields}
        object.__setattr__(self, "reserved_keys", frozenset(declared | MACHINE_KEYS))


@dataclass(frozen=True)
class Context:
    """What a decision may depend on besides the case: the time now and the configured policy."""

    now: str
    reopen_window_seconds: int = 30 * 24 * 3600
    request_id: str | None = None
    # Figures the service measured for this action from its read model (an improvement plan's KPI
    # before and after); recorded with the event, so the history keeps the numbers it was judged on.
    measured: dict[str, Any] | None = None
    # Who acts, as the directory knows them (teams, ownership rule); None: no person (timers) or a
    # caller that predates teams, and the ownership and team rules are not applied.
    authority: Authority | None = None
