"""Checks an auditor can trust: the hash chain of stored events, their agreement with the events
Temporal recorded, and a replay of those events through the state machine. Pure: events in, the
first disagreement out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from states.case import Actor, Authority
from states.chain import GENESIS, HASHED_FIELDS, event_hash
from states.errors import CaseRuleError
from states.machine import CaseMachine, declared_action
from states.opening import Report, open_case
from states.spec import MEASURED_KEYS, Context
from states.vocabulary import NOTICE_ACTIONS, SYSTEM, SystemAction

# Replays cannot know the reopen window a case ran under; the recorded events say a reopen happened.
REPLAY_REOPEN_WINDOW = 100 * 365 * 24 * 3600


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str  # changed field | missing event | extra event | broken link | unreachable state
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def first(*findings: Finding | None) -> Finding | None:
    found = [finding for finding in findings if finding is not None]
    return min(found, key=lambda finding: finding.seq) if found else None


def check_chain(events: list[dict[str, Any]]) -> Finding | None:
    """Each stored event in its place, linked to its predecessor, with a hash matching its content."""
    prev_hash = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event["seq"] > expected_seq:
            return Finding(expected_seq, "missing event", f"the stored events jump from seq {expected_seq - 1} to {event['seq']}")
        if event["seq"] < expected_seq:
            return Finding(expected_seq, "extra event", f"seq {event['seq']} is stored twice")
        if event.get("prev_hash") != prev_hash:
            return Finding(event["seq"], "broken link", "prev_hash is not the hash of the event before")
        if event_hash(event) != event.get("hash"):
            return Finding(event["seq"], "changed field", "the event's content does not match its hash")
        prev_hash = event["hash"]
    return None


def compare(stored: list[dict[str, Any]], recorded: list[dict[str, Any]]) -> Finding | None:
    """The read model against what Temporal recorded, seq by seq."""
    stored_by_seq = {event["seq"]: event for event in stored}
    recorded_by_seq = {event["seq"]: event for event in recorded}
    for seq in sorted(stored_by_seq.keys() | recorded_by_seq.keys()):
        if seq not in stored_by_seq:
            return Finding(seq, "missing event", "Temporal recorded this event; the read model lacks it")
        if seq not in recorded_by_seq:
            return Finding(seq, "extra event", "the read model holds an event Temporal never recorded")
        changed = [name for name in (*HASHED_FIELDS, "hash") if _normal(stored_by_seq[seq], name) != _normal(recorded_by_seq[seq], name)]
        if changed:
            return Finding(seq, "changed field", f"differs from Temporal's record in: {', '.join(changed)}")
    return None


def replay(case_id: str, recorded: list[dict[str, Any]]) -> Finding | None:
    """Run the recorded events through the state machine: each must be one the machine would produce."""
    if not recorded:
        return None
    machine: CaseMachine | None = None
    for event in recorded:
        actor = Actor(**event["actor"])
        try:
            added = _added_by_effect(machine, event["action"])
            given, measured = _as_given(added, event["data"] if event["seq"] > 1 else event["data"]["data"])
            ctx = Context(event["at"], REPLAY_REOPEN_WINDOW, event.get("request_id"), measured or None, _replay_authority(machine, actor))
            if event["seq"] == 1:
                report = event["data"]
                machine, replayed = open_case(
                    case_id,
                    Report(report["kind"], report["title"], report["description"], report["priority"], report["customer"], report["channel"], given),
                    actor,
                    ctx,
                )
            elif machine is None:
                return Finding(event["seq"], "unreachable state", "the history does not begin with its report")
            elif event["action"] == SystemAction.LINK:
                replayed = machine.link(event["data"]["case_id"], event["data"]["relation"], actor, ctx)
            elif event["action"] == SystemAction.DISPATCH:
                decision = {key: value for key, value in event["data"].items() if key not in ("team", "owner")}
                replayed = machine.dispatch(event["data"]["team"], event["data"]["owner"], decision, ctx)
            elif event["action"] in NOTICE_ACTIONS:
                replayed = machine.record_notice(event["action"], event["data"], ctx, actor)
            else:
                replayed = machine.take(event["action"], actor, given, event["note"], ctx)
        except (CaseRuleError, KeyError, TypeError, AttributeError) as error:
            return Finding(event["seq"], "unreachable state", f"the machine refuses {event['action']!r}: {error}")
        if replayed.to_state != event["to_state"]:
            return Finding(event["seq"], "unreachable state", f"{event['action']!r} leads to {str(replayed.to_state)!r}, not {event['to_state']!r}")
        if replayed.hash != event["hash"]:
            return Finding(event["seq"], "changed field", "the machine records this action differently")
    return None


def _replay_authority(machine: CaseMachine | None, actor: Actor) -> Authority | None:
    """Whoever took a recorded action was allowed to then: the directory of that day is not known now,
    so a replay checks the machine's rules, not the department's ownership and team rules."""
    if machine is None or actor.name == SYSTEM:
        return None
    teams = (machine.case.team,) if machine.case.team else ()
    return Authority(actor.name, teams, teams, ownership=False)


def _added_by_effect(machine: CaseMachine | None, action: str) -> frozenset[str]:
    declared = None if machine is None else declared_action(machine.case.kind, action)
    return frozenset() if declared is None else declared.adds


def _as_given(added: frozenset[str], recorded: Any) -> tuple[Any, dict[str, Any]]:
    """Split recorded data into what the caller gave and what the service measured; drop what the
    machine added, so replaying it asks the machine exactly what the original action did."""
    if not isinstance(recorded, dict):
        return recorded, {}
    given = {key: value for key, value in recorded.items() if key not in MEASURED_KEYS and key not in added}
    return given, {key: value for key, value in recorded.items() if key in MEASURED_KEYS}


def _normal(event: dict[str, Any], name: str) -> Any:
    value = event.get(name)
    if name == "actor":
        value = {"name": (value or {}).get("name"), "role": (value or {}).get("role")}
    return value
