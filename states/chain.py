"""The hash chain over a case's events: each event's hash covers its content and the previous hash,
so changing, dropping, inserting or reordering a stored event breaks the chain from that seq on."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from states.case import Event

GENESIS = "0" * 64
# The fields a hash covers: everything an event says, including the link to its predecessor.
HASHED_FIELDS = ("seq", "case_id", "action", "from_state", "to_state", "actor", "at", "note", "data", "request_id", "prev_hash")


def canonical(event: dict[str, Any]) -> bytes:
    content = {name: event.get(name) for name in HASHED_FIELDS}
    actor = content["actor"] or {}
    content["actor"] = {"name": actor.get("name"), "role": actor.get("role")}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(event: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def seal(event: Event, prev_hash: str) -> Event:
    event.prev_hash = prev_hash
    # The hashed fields read off the event as they are: `dataclasses.asdict` would deep-copy its data first.
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields["actor"] = {"name": event.actor.name, "role": event.actor.role}
    event.hash = event_hash(fields)
    return event
