"""Request and response bodies, as msgspec structs: they validate input and document the API."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import msgspec
from msgspec import Meta, Struct

from service.cases import COUNT_GROUPS
from states.vocabulary import Kind, Phase, Priority


def one_of(vocabulary: type[StrEnum]) -> Any:
    """The vocabulary's values as a Literal: msgspec checks them and the OpenAPI document lists them
    inline, where each field can carry its own default."""
    return Literal[tuple(term.value for term in vocabulary)]


if TYPE_CHECKING:
    KindName: TypeAlias = str
    PriorityName: TypeAlias = str
    PhaseName: TypeAlias = str
    CountGroup: TypeAlias = str
else:
    KindName = one_of(Kind)
    PriorityName = one_of(Priority)
    PhaseName = one_of(Phase)
    CountGroup = Literal[tuple(COUNT_GROUPS)]
ShortText = Annotated[str, Meta(max_length=200)]
Title = Annotated[str, Meta(min_length=1, max_length=500)]
LongText = Annotated[str, Meta(max_length=20_000)]


class Customer(Struct, omit_defaults=False):
    id: ShortText | None = None
    name: Annotated[str, Meta(max_length=500)] | None = None
    vip: bool = False
    # Confidential: masked (138****5678) for agents outside the case's team, and in exports.
    phone: Annotated[str, Meta(max_length=32, description="digits, + - and spaces")] | None = None
    email: Annotated[str, Meta(max_length=254)] | None = None


class CaseIn(Struct):
    kind: KindName
    title: Title
    description: LongText = ""
    priority: PriorityName = Priority.NORMAL.value
    customer: Customer | None = None
    channel: Annotated[str, Meta(max_length=100)] | None = None
    source_case_id: Annotated[str, Meta(max_length=64)] | None = None
    data: dict[str, Any] = {}


class TransitionIn(Struct):
    action: Annotated[str, Meta(min_length=1, max_length=64)]
    note: LongText | None = None
    data: dict[str, Any] | None = None
    expected_version: Annotated[int, Meta(ge=1)] | None = None


class Link(Struct):
    case_id: str
    relation: str


class ActionItem(Struct):
    id: str
    title: str
    owner: str
    due: str
    done: bool
    outcome: str | None = None
    overdue: bool = False


class ServiceLevel(Struct):
    deadline: str | None
    state: Literal["running", "paused", "met", "breached"]
    time_left_seconds: int | None


class Case(Struct):
    id: str
    kind: KindName
    title: str
    description: str
    priority: PriorityName
    customer: Customer | None
    channel: str | None
    state: PhaseName
    version: int
    owner: str | None
    created_by: str
    created_at: str
    updated_at: str
    closed_at: str | None
    first_response_at: str | None
    reopen_count: int
    allowed_actions: list[str]
    data: dict[str, Any]
    links: list[Link]
    action_items: list[ActionItem]
    sla: dict[str, ServiceLevel]
    sla_breached: bool
    team: str | None = None  # the team whose queue it is in; null: not routed to a team (or reported before teams)


class CaseList(Struct):
    items: list[Case]
    next_cursor: str | None


class Count(Struct):
    key: str | None
    count: int


class CaseCounts(Struct):
    group_by: CountGroup
    total: int
    items: list[Count]


class Actor(Struct, omit_defaults=True):
    name: str
    role: str | None = None


class Event(Struct):
    seq: int
    case_id: str
    action: str
    from_state: str | None
    to_state: str
    actor: Actor
    at: str
    note: str | None
    data: dict[str, Any]
    request_id: str | None = None
    prev_hash: str | None = None
    hash: str | None = None


class History(Struct):
    items: list[Event]


class FieldError(Struct):
    field: str
    message: str | None


class Problem(Struct, omit_defaults=True):
    """An error as application/problem+json (RFC 9457); the fields after `detail` where they apply."""

    type: str
    title: str
    # Stable and machine-readable (states/vocabulary.py RefusalCode); its labels are in the catalogs.
    code: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None
    state: str | None = None
    allowed_actions: list[str] | None = None
    current_version: int | None = None
    action: str | None = None
    known_actions: list[str] | None = None
    roles: list[str] | None = None
    case_id: str | None = None


class Health(Struct):
    status: Literal["ok", "degraded", "unavailable"]
    temporal: str
    # "ok", "unavailable: ...", or "degraded: ..." while changes it refused for good are recent.
    read_model: str
    # Why the service is degraded, each for an operator to act on (docs/deploy.md); empty when ok.
    alerts: list[str] = []


def case_for(snapshot: dict[str, Any], role: str) -> Case:
    """A stored or returned case as the caller sees it: `allowed_actions` for the caller's role."""
    view = dict(snapshot)
    view["allowed_actions"] = snapshot.get("allowed_actions", {}).get(role, [])
    return msgspec.convert(view, Case, strict=False)
