"""Actions, guards and fields that several kinds share."""

from datetime import timedelta
from typing import Any

from states.case import CaseState, Report, parse_time
from states.errors import ActionNotAllowed, InvalidData
from states.service_times import REPLY
from states.spec import OPEN_ACTION_ITEM, PRIORITIES, SUPERVISOR, TEAM, USER, Action, Branch, ClockChange, Context, Field, Guard, Opens, record_only
from states.vocabulary import OPEN_PHASES, SYSTEM, Kind, MessageKind, Phase, RefusalCode, Relation


def _has_cause(case: CaseState, ctx: Context) -> bool:
    return bool(case.data.get("causes"))


def _has_action_item(case: CaseState, ctx: Context) -> bool:
    return bool(case.action_items)


def _no_open_action_item(case: CaseState, ctx: Context) -> bool:
    return not case.open_action_items()


def _has_open_action_item(case: CaseState, ctx: Context) -> bool:
    return bool(case.open_action_items())


def _within_reopen_window(case: CaseState, ctx: Context) -> bool:
    if case.closed_at is None:
        return False
    elapsed = parse_time(ctx.now) - parse_time(case.closed_at)
    return elapsed <= timedelta(seconds=ctx.reopen_window_seconds)


HAS_CAUSE = Guard("has_cause", "at least one cause is recorded", _has_cause)
HAS_ACTION_ITEM = Guard("has_action_item", "at least one action item exists", _has_action_item)
NO_OPEN_ACTION_ITEM = Guard("no_open_action_item", "every action item is done", _no_open_action_item)
HAS_OPEN_ACTION_ITEM = Guard("has_open_action_item", "an action item is still open", _has_open_action_item)
WITHIN_REOPEN_WINDOW = Guard("within_reopen_window", "the case closed no longer ago than the reopen window", _within_reopen_window)


def _unassigned(case: CaseState, ctx: Context) -> bool:
    return case.owner is None


UNASSIGNED = Guard("unassigned", "the case has no owner yet", _unassigned)


def _claim(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    assert ctx.authority is not None, "states/ownership.py refuses a claim by no person"
    case.owner = ctx.authority.name
    return {**data, "owner": case.owner}


def _owner_or_team(case: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    if not data.get("owner") and not data.get("team"):
        raise InvalidData("data.owner", "give an owner, or a team to put the case in its queue", RefusalCode.MISSING_FIELD)
    return data


def _assign(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """To an owner (the case stays in its team), or to a team: to its queue, or to the owner named."""
    if data.get("team"):
        case.team = data["team"]
    case.owner = data.get("owner")
    return data


def _set_priority(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    case.priority = data["priority"]
    return data


COMMENT = Action(
    "comment",
    OPEN_PHASES,
    fields=(Field(REPLY, "boolean", required=False),),
    effect=record_only,
    in_bulk=True,
    owners_only=False,
    replies=True,
    description="add a note; the phase stays; `reply`: it is an answer to the customer (a response)",
)
CLAIM = Action(
    "claim",
    OPEN_PHASES,
    guards=(UNASSIGNED,),
    effect=_claim,
    adds=frozenset({"owner"}),
    claims=True,
    owners_only=False,
    description="take an unassigned case of one's own team: the claimant owns it from now on",
)
ASSIGN = Action(
    "assign",
    OPEN_PHASES,
    roles=SUPERVISOR,
    fields=(
        Field("owner", required=False, max_length=200, names=USER),
        Field("team", required=False, max_length=100, names=TEAM),
        Field("reason", required=False, max_length=500),
    ),
    prepare=_owner_or_team,
    effect=_assign,
    notifies=True,
    message=MessageKind.ASSIGNED,
    in_bulk=True,
    description="give the case to another owner, or to a team's queue (a handover says why in `reason`)",
)
SET_PRIORITY = Action(
    "set_priority",
    OPEN_PHASES,
    roles=SUPERVISOR,
    fields=(Field("priority", choices=tuple(PRIORITIES)),),
    effect=_set_priority,
    clocks=ClockChange.RETARGET,
    description="change the priority; service-level clocks keep the time used and take the new targets",
)
SHARED_ACTIONS = (COMMENT, CLAIM, ASSIGN, SET_PRIORITY)


def escalation_report(case: CaseState, data: dict[str, Any]) -> Report:
    """An incident's emergency report, taken from the case escalated into it and the reason."""
    reason = data["reason"]
    return Report(
        kind=Kind.INCIDENT,
        title=f"Escalated: {case.title}"[:500],
        description=reason,
        priority=case.priority,
        customer=case.customer,
        channel=case.channel,
        data={"occurred_at": case.created_at, "impact": case.description or case.title, "consequences": reason},
    )


ESCALATE = Action(
    "escalate",
    OPEN_PHASES,
    roles=(*SUPERVISOR, SYSTEM),
    fields=(Field("reason"), Field("incident_id", required=False, max_length=64)),
    effect=record_only,
    opens=Opens(Kind.INCIDENT, "incident_id", Relation.ESCALATED_TO, Relation.ESCALATED_FROM, escalation_report, may_join_open=True),
    notifies=True,
    message=MessageKind.ESCALATED,
    taken_on_breach="first_response",
    in_bulk=True,
    description="raise the case into an emergency incident meeting: a new one, or the open one named",
)

SATISFACTION_FIELDS = (
    Field("satisfied", "boolean"),
    Field("score", "integer", required=False, minimum=1, maximum=5),
)


def _record_satisfaction(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # A new verdict replaces the last one whole: an old score must not outlive its verdict.
    case.data["satisfied"] = data["satisfied"]
    case.data["score"] = data.get("score")
    return data


def _unsatisfied(data: dict[str, Any]) -> bool:
    return data["satisfied"] is False


def _always(data: dict[str, Any]) -> bool:
    return True


def record_satisfaction() -> Action:
    return Action(
        "record_satisfaction",
        (Phase.FOLLOW_UP,),
        branch=Branch("satisfied", when_true=Phase.CLOSED, when_false=Phase.REMEDIATE),
        fields=SATISFACTION_FIELDS,
        effect=_record_satisfaction,
        customer_contact=_unsatisfied,
        description="the customer's verdict: satisfied closes, not satisfied goes back to remediate",
    )


def _reopen(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    case.reopen_count += 1
    case.data["reopen_reason"] = data["reason"]
    return data


def reopen() -> Action:
    return Action(
        "reopen",
        (Phase.CLOSED,),
        Phase.ANALYSE,
        fields=(Field("reason"),),
        guards=(WITHIN_REOPEN_WINDOW,),
        effect=_reopen,
        clocks=ClockChange.RESTART,
        customer_contact=_always,
        description="the customer comes back within the reopen window",
    )


def record_cause(causes: tuple[str, ...]) -> Action:
    return Action(
        "record_cause",
        (Phase.ANALYSE,),
        fields=(Field("category", choices=causes), Field("description")),
        effect=_record_cause,
    )


def _record_cause(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    case.data.setdefault("causes", []).append({"category": data["category"], "description": data["description"]})
    return data


def _add_action_item(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    item_id = f"item-{len(case.action_items) + 1}"
    item = {"id": item_id, "title": data["title"], "owner": data["owner"], "due": data["due"], "done": False, "outcome": None}
    item["created_at"] = ctx.now  # its due-soon warning falls at the policy's share of created → due
    case.action_items.append(item)
    return {**data, "item_id": item_id}


def _item_still_open(case: CaseState, data: dict[str, Any]) -> dict[str, Any]:
    item_id = data["item_id"]
    item = next((item for item in case.action_items if item["id"] == item_id), None)
    if item is None:
        raise InvalidData("data.item_id", f"no action item {item_id!r} on this case")
    if item["done"]:
        raise ActionNotAllowed("complete_action_item", case.state, [], f"action item {item_id!r} is already done", RefusalCode.GUARD_FAILED)
    return data


def _complete_action_item(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    item = next(item for item in case.action_items if item["id"] == data["item_id"])
    item["done"] = True
    item["outcome"] = data["outcome"]
    item["done_at"] = ctx.now
    return data


def action_item_actions(add_from: tuple[str, ...]) -> tuple[Action, ...]:
    add = Action(
        "add_action_item",
        add_from,
        fields=(Field("title", max_length=500), Field("owner", max_length=200, names=USER), Field("due", "datetime")),
        effect=_add_action_item,
        adds=frozenset({"item_id"}),
        message=MessageKind.ACTION_ITEM_ASSIGNED,
        description="a measure with an owner and a deadline",
    )
    complete = Action(
        "complete_action_item",
        add_from,
        fields=(Field("item_id", max_length=100, names=OPEN_ACTION_ITEM), Field("outcome")),
        guards=(HAS_OPEN_ACTION_ITEM,),
        prepare=_item_still_open,
        effect=_complete_action_item,
        description="mark an action item done, with its outcome",
    )
    return add, complete


# Meetings' people (the incident and meeting kinds keep them in the case's data under these names).
ATTENDEE_FIELDS = (
    Field("host", required=False, max_length=200, names=USER),
    Field("recorder", required=False, max_length=200, names=USER),
    Field("participants", "string_list", required=False, max_length=200, names=USER),
)
# The minutes (会议纪要) in the one format of seed 000 §4(2): each part its own field.
MINUTES_FIELDS = (
    Field("held_at", "datetime"),
    Field("place", max_length=500),
    Field("participants", "string_list", max_length=200),
    Field("host", max_length=200, names=USER),
    Field("agenda"),
    Field("discussion"),
    Field("decisions"),
    Field("tasks", required=False),
)
# Where the published minutes live in the case's data: one object, so the minutes' host, participants
# and agenda (who really attended, what was discussed) leave the planned ones in place. An incident
# closed the way of API v1 has `minutes` as one text instead (states/incident.py).
MINUTES = "minutes"
# The minutes' form starts from what the meeting was planned with (Action.prefill).
MINUTES_PREFILL = (("held_at", "scheduled_at"), ("place", "place"), ("participants", "participants"), ("host", "host"), ("agenda", "agenda"))
MINUTES_PUBLISHED_AT = "minutes_published_at"


def publish_minutes(case: CaseState, data: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """`publish_minutes`' effect (both kinds): the minutes as one object, and when they were published."""
    case.data[MINUTES] = dict(data)
    case.data[MINUTES_PUBLISHED_AT] = ctx.now
    return data
