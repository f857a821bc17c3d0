"""The state of one case and the events that change it, as plain data."""

# No `from __future__ import annotations` here: Temporal's payload converter evaluates these dataclasses'
# type hints on every decode, and evaluating string hints cost twice the time (docs/benchmarks.md).

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from states.vocabulary import Priority


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, so strings sort like the times they name."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive one (SQLite hands stored times back naive) is UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(text: str) -> datetime:
    matched = RFC3339.match(text) if isinstance(text, str) else None
    if matched is None:
        raise ValueError("not an RFC 3339 time with an offset, e.g. 2026-11-22T10:00:00Z")
    digits, zone = (matched.group(1) or ".")[1:], matched.group(2)
    fraction = "." + (digits + "000000")[:6] if digits else ""
    offset = "+00:00" if zone in ("Z", "z") else zone
    moment = datetime.fromisoformat(text[:19].replace("t", "T").replace(" ", "T") + fraction + offset)
    return moment.astimezone(UTC)


@dataclass
class Actor:
    name: str
    role: str | None = None


@dataclass(frozen=True)
class Authority:
    """What the directory says of the person taking an action, looked up by the service for each
    request: the case rules check ownership and team membership against the case as it is then."""

    name: str
    teams: tuple[str, ...] = ()  # the teams they are a member or a supervisor of
    leads: tuple[str, ...] = ()  # the teams they are a supervisor of
    ownership: bool = True  # the department's rule: only the owner (and those above) move a case


@dataclass
class Event:
    seq: int
    case_id: str
    action: str
    from_state: str | None
    to_state: str
    actor: Actor
    at: str
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # The API request that caused it; None for timers and other system events.
    request_id: str | None = None
    prev_hash: str | None = None
    hash: str | None = None


@dataclass
class CaseState:
    id: str
    kind: str
    title: str
    description: str
    priority: str
    customer: dict[str, Any] | None
    channel: str | None
    state: str
    version: int
    owner: str | None
    created_by: str
    created_at: str
    updated_at: str
    # The team whose queue the case is in (routing, claim, handover); None: not routed to a team.
    team: str | None = None
    closed_at: str | None = None
    # The action that last closed the case (dismiss, record_satisfaction, close, record_effect).
    closed_by: str | None = None
    first_response_at: str | None = None
    reopen_count: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    action_items: list[dict[str, Any]] = field(default_factory=list)
    # Which actions each role may take now; computed by the machine so readers need no machine.
    allowed_actions: dict[str, list[str]] = field(default_factory=dict)
    # Service-level clocks by target (see states/clocks.py) and the cycle they belong to.
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    sla_cycle: int = 0
    # Every service-level target this case has ever missed, across reopenings ("action_item" for items).
    breached_targets: list[str] = field(default_factory=list)
    # What the KPIs measure as the case goes (states/service_times.py): responses to the customer and
    # their total seconds, the contact still waiting for one, and the time spent waiting for the customer.
    responses: int = 0
    response_seconds: float = 0.0
    awaiting_response_since: str | None = None
    paused_seconds: float = 0.0
    paused_since: str | None = None
    # The hash of the latest event: the head of the chain, carried across continue-as-new.
    last_hash: str | None = None

    def open_action_items(self) -> list[dict[str, Any]]:
        return [item for item in self.action_items if not item["done"]]


def copy_case(case: CaseState) -> CaseState:
    """A copy sharing nothing mutable with `case`: its data is plain JSON (dicts, lists, scalars), so
    this is several times faster than `copy.deepcopy`, and it is taken on every action."""
    return CaseState(**{name: _copy_plain(getattr(case, name)) for name in _CASE_FIELDS})


_CASE_FIELDS = tuple(item.name for item in fields(CaseState))


def case_fields(case: CaseState) -> dict[str, Any]:
    """The case's fields as a dict that shares their values: for a case nobody else holds (one an
    update has just returned), where `dataclasses.asdict`'s deep copy would cost 30 times as much."""
    return {name: getattr(case, name) for name in _CASE_FIELDS}


def _copy_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_plain(item) for item in value]
    return value


@dataclass
class Report:
    """What a reporter says about a new case: the content of its opening event."""

    kind: str
    title: str
    description: str = ""
    priority: str = Priority.NORMAL
    customer: dict[str, Any] | None = None
    channel: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
