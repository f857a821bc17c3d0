"""The state of one case and the events that change it, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, so strings sort like the times they name."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time needs a UTC offset, e.g. 2026-11-22T10:00:00Z")
    return moment.astimezone(timezone.utc)


@dataclass
class Actor:
    name: str
    role: str | None = None


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
    closed_at: str | None = None
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
    # The hash of the latest event: the head of the chain, carried across continue-as-new.
    last_hash: str | None = None

    def open_action_items(self) -> list[dict[str, Any]]:
        return [item for item in self.action_items if not item["done"]]
