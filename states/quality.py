"""A quality check (质检) of one closed case, as plain data and pure rules: its statuses, the events
that move it (hash-chained like a case's), and who may do what.

    sampled --score--> scored --appeal--> appealed --decide--> decided
                          \\--(appeal window ends)--> final

The agent who handled the case may appeal (申诉) once, before the window after the score ends; a
supervisor (or manager) upholds the score or changes it. Nobody scores their own case.
"""

# No `from __future__ import annotations`: Temporal's payload converter reads these dataclasses' hints.

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from states.case import Actor, format_time, parse_time
from states.chain import GENESIS
from states.errors import ActionForbidden, ActionNotAllowed, InvalidData
from states.scorecard import Rubric, bounded_text, scored
from states.vocabulary import SUPERVISING_ROLES, Role


class CheckStatus(StrEnum):
    SAMPLED = "sampled"
    SCORED = "scored"
    APPEALED = "appealed"
    DECIDED = "decided"
    FINAL = "final"  # the appeal window ended without an appeal


class CheckAction(StrEnum):
    SAMPLE = "sample"
    SCORE = "score"
    APPEAL = "appeal"
    DECIDE = "decide"
    APPEAL_WINDOW_ENDED = "appeal_window_ended"


SCORERS = (Role.QUALITY, *SUPERVISING_ROLES)
DECIDERS = SUPERVISING_ROLES
# From where each action may be taken.
SOURCES = {
    CheckAction.SCORE: (CheckStatus.SAMPLED,),
    CheckAction.APPEAL: (CheckStatus.SCORED,),
    CheckAction.DECIDE: (CheckStatus.APPEALED,),
    CheckAction.APPEAL_WINDOW_ENDED: (CheckStatus.SCORED,),
}
TARGETS = {
    CheckAction.SCORE: CheckStatus.SCORED,
    CheckAction.APPEAL: CheckStatus.APPEALED,
    CheckAction.DECIDE: CheckStatus.DECIDED,
    CheckAction.APPEAL_WINDOW_ENDED: CheckStatus.FINAL,
}
HASHED_FIELDS = ("seq", "check_id", "action", "from_status", "to_status", "actor", "at", "note", "data", "prev_hash")


@dataclass
class CheckEvent:
    seq: int
    check_id: str
    action: str
    from_status: str | None
    to_status: str
    actor: Actor
    at: str
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str | None = None
    hash: str | None = None


@dataclass
class Check:
    id: str
    case_id: str
    agent: str
    reviewer: str | None
    case_closed_at: str
    sampled_at: str
    # Why it was sampled: "random", or the flags that made it mandatory (reopened, breached, dissatisfied).
    sampled_because: list[str]
    # What the case's own record takes off, fixed when it was sampled.
    automatic: list[dict[str, Any]]
    status: str = CheckStatus.SAMPLED
    version: int = 0
    items: dict[str, int] | None = None
    deductions: list[dict[str, Any]] = field(default_factory=list)
    total: float | None = None
    comment: str | None = None
    scored_by: str | None = None
    scored_at: str | None = None
    appeal_until: str | None = None
    appeal: dict[str, Any] | None = None
    last_hash: str = GENESIS
    # The scorecard the check is scored on (CASEWORK_RUBRIC's TOML when sampled): a later change leaves it be.
    rubric: dict[str, Any] | None = None


def check_from_snapshot(snapshot: dict[str, Any]) -> Check:
    """A check from its stored snapshot, ignoring fields a later or earlier version added."""
    known = {item.name for item in fields(Check)}
    return Check(**{name: value for name, value in snapshot.items() if name in known})


def check_id_for(case_id: str, closed_at: str) -> str:
    """One check per case per closing: a case reopened and closed again may be checked again."""
    return f"qc_{case_id}_{parse_time(closed_at).strftime('%Y%m%dT%H%M%S%f')}"


def event_hash(event: dict[str, Any]) -> str:
    content = {name: event.get(name) for name in HASHED_FIELDS}
    actor = content["actor"] or {}
    content["actor"] = {"name": actor.get("name"), "role": actor.get("role")}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return hashlib.sha256(encoded).hexdigest()


def chain_intact(events: list[dict[str, Any]]) -> bool:
    previous = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.get("seq") != expected_seq or event.get("prev_hash") != previous or event_hash(event) != event.get("hash"):
            return False
        previous = event["hash"]
    return True


def _record(check: Check, action: CheckAction, actor: Actor, now: datetime, note: str | None, data: dict[str, Any]) -> CheckEvent:
    before = None if action == CheckAction.SAMPLE else check.status
    after = CheckStatus.SAMPLED if action == CheckAction.SAMPLE else TARGETS[action]
    check.version += 1
    check.status = after
    event = CheckEvent(check.version, check.id, action, before, after, actor, format_time(now), note, data, check.last_hash)
    event.hash = event_hash(asdict(event))
    check.last_hash = event.hash
    return event


def sampled(check: Check, actor: Actor, now: datetime) -> CheckEvent:
    data = dict(case_id=check.case_id, agent=check.agent, reviewer=check.reviewer, sampled_because=check.sampled_because, automatic=check.automatic)
    return _record(check, CheckAction.SAMPLE, actor, now, None, data)


def _require_status(check: Check, action: CheckAction) -> None:
    if check.status not in SOURCES[action]:
        allowed = [name for name, sources in SOURCES.items() if check.status in sources and name != CheckAction.APPEAL_WINDOW_ENDED]
        raise ActionNotAllowed(action, check.status, [str(name) for name in allowed])


def check_score(
    check: Check, rubric: Rubric, actor: Actor, items: Any, reasons: Any, comment: Any = None
) -> tuple[dict[str, int], list[dict[str, Any]], float]:
    """An item below its max takes its own reason, or else the comment; InvalidData naming the field."""
    if actor.role not in SCORERS:
        raise ActionForbidden(CheckAction.SCORE, actor.role or "", [str(role) for role in SCORERS])
    if actor.name == check.agent:
        raise ActionForbidden(CheckAction.SCORE, actor.role or "", [str(role) for role in SCORERS], "nobody scores a case they handled")
    _require_status(check, CheckAction.SCORE)
    comment = bounded_text("comment", comment)
    return scored(rubric, items, reasons, check.automatic, comment)


def score(
    check: Check, rubric: Rubric, actor: Actor, items: Any, reasons: Any, comment: str | None, now: datetime, appeal_window: timedelta
) -> CheckEvent:
    given, deductions, total = check_score(check, rubric, actor, items, reasons, comment)
    check.items, check.deductions, check.total, check.comment = given, deductions, total, comment
    check.scored_by, check.scored_at = actor.name, format_time(now)
    check.appeal_until = format_time(now + appeal_window)
    return _record(
        check, CheckAction.SCORE, actor, now, comment, {"items": given, "deductions": deductions, "total": total, "appeal_until": check.appeal_until}
    )


def check_appeal(check: Check, actor: Actor, reason: Any, now: datetime) -> None:
    if actor.name != check.agent:
        raise ActionForbidden(CheckAction.APPEAL, actor.role or "", [str(Role.AGENT)], "only the agent whose case was checked may appeal")
    if check.appeal is not None:
        raise ActionNotAllowed(CheckAction.APPEAL, check.status, [], "a check may be appealed once")
    _require_status(check, CheckAction.APPEAL)
    if check.appeal_until is None or now >= parse_time(check.appeal_until):
        raise ActionNotAllowed(CheckAction.APPEAL, check.status, [], f"the appeal window ended at {check.appeal_until}")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidData("reason", "say why the score is wrong")
    bounded_text("reason", reason)


def appeal(check: Check, actor: Actor, reason: str, now: datetime) -> CheckEvent:
    check_appeal(check, actor, reason, now)
    check.appeal = {"reason": reason.strip(), "at": format_time(now), "by": actor.name}
    return _record(check, CheckAction.APPEAL, actor, now, reason.strip(), {"reason": reason.strip()})


def check_decide(check: Check, rubric: Rubric, actor: Actor, upheld: Any, items: Any, reasons: Any, comment: Any):
    """The changed score, or None when upheld. Who leads the agent's team is the service's to check."""
    if actor.role not in DECIDERS:
        raise ActionForbidden(CheckAction.DECIDE, actor.role or "", [str(role) for role in DECIDERS])
    if actor.name in (check.agent, check.scored_by):
        raise ActionForbidden(
            CheckAction.DECIDE, actor.role or "", [str(role) for role in DECIDERS], "nobody decides an appeal on their own case or score"
        )
    _require_status(check, CheckAction.DECIDE)
    if not isinstance(upheld, bool):
        raise InvalidData("upheld", "true to keep the score, false to change it")
    if not isinstance(comment, str) or not comment.strip():
        raise InvalidData("comment", "say why")
    bounded_text("comment", comment)
    if upheld:
        if items is not None:
            raise InvalidData("items", "an upheld score keeps its points: send items only to change it")
        if reasons:
            raise InvalidData("reasons", "an upheld score keeps its reasons: send reasons only to change it")
        return None
    if items is None:
        raise InvalidData("items", "a changed score needs the items' new points")
    # An item whose points stay keeps the reviewer's reason; a changed one takes its own or the comment.
    earlier = {deduction["item"]: deduction["reason"] for deduction in check.deductions if not deduction.get("automatic")}
    unchanged = {
        item_id: earlier[item_id]
        for item_id, points in (items.items() if isinstance(items, dict) else ())
        if item_id in earlier and (check.items or {}).get(item_id) == points
    }
    return scored(rubric, items, unchanged | (dict(reasons) if isinstance(reasons, dict) else {}), check.automatic, comment)


def decide(check: Check, rubric: Rubric, actor: Actor, upheld: bool, items: Any, reasons: Any, comment: str, now: datetime) -> CheckEvent:
    changed = check_decide(check, rubric, actor, upheld, items, reasons, comment)
    data: dict[str, Any] = {"upheld": upheld, "previous_total": check.total}
    if changed is not None:
        check.items, check.deductions, check.total = changed
        data.update(items=check.items, deductions=check.deductions, total=check.total)
    check.appeal = {**(check.appeal or {}), "upheld": upheld, "comment": comment.strip(), "decided_by": actor.name, "decided_at": format_time(now)}
    return _record(check, CheckAction.DECIDE, actor, now, comment.strip(), data)


def window_ended(check: Check, actor: Actor, now: datetime) -> CheckEvent | None:
    if check.status != CheckStatus.SCORED:
        return None
    return _record(check, CheckAction.APPEAL_WINDOW_ENDED, actor, now, None, {})
