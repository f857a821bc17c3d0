"""Actions, guards and fields that several kinds share."""

from datetime import timedelta

from states.case import CaseState, parse_time
from states.spec import (
    OPEN_PHASES,
    PRIORITIES,
    SUPERVISOR,
    Action,
    Branch,
    Context,
    Field,
    Guard,
)


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
WITHIN_REOPEN_WINDOW = Guard(
    "within_reopen_window", "the case closed no longer ago than the reopen window", _within_reopen_window
)

COMMENT = Action("comment", tuple(OPEN_PHASES), description="add a note; the phase stays")
ASSIGN = Action(
    "assign",
    tuple(OPEN_PHASES),
    roles=SUPERVISOR,
    fields=(Field("owner", max_length=200),),
    description="give the case to another owner",
)
SET_PRIORITY = Action(
    "set_priority",
    tuple(OPEN_PHASES),
    roles=SUPERVISOR,
    fields=(Field("priority", choices=tuple(PRIORITIES)),),
    description="change the priority; service-level clocks keep the time used and take the new targets",
)
SHARED_ACTIONS = (COMMENT, ASSIGN, SET_PRIORITY)
SYSTEM = "system"  # the role the machine sees for timers and other automatic actions

ESCALATE = Action(
    "escalate",
    tuple(OPEN_PHASES),
    roles=(*SUPERVISOR, SYSTEM),
    fields=(Field("reason"), Field("incident_id", required=False, max_length=64)),
    description="raise the case into an emergency incident meeting: a new one, or the open one named",
)

SATISFACTION_FIELDS = (
    Field("satisfied", "boolean"),
    Field("score", "integer", required=False, minimum=1, maximum=5),
)


def record_satisfaction() -> Action:
    return Action(
        "record_satisfaction",
        ("follow_up",),
        branch=Branch("satisfied", when_true="closed", when_false="remediate"),
        fields=SATISFACTION_FIELDS,
        description="the customer's verdict: satisfied closes, not satisfied goes back to remediate",
    )


def reopen() -> Action:
    return Action(
        "reopen",
        ("closed",),
        "analyse",
        fields=(Field("reason"),),
        guards=(WITHIN_REOPEN_WINDOW,),
        description="the customer comes back within the reopen window",
    )


def action_item_actions(add_from: tuple[str, ...]) -> tuple[Action, ...]:
    add = Action(
        "add_action_item",
        add_from,
        fields=(Field("title", max_length=500), Field("owner", max_length=200), Field("due", "datetime")),
        description="a measure with an owner and a deadline",
    )
    complete = Action(
        "complete_action_item",
        add_from,
        fields=(Field("item_id", max_length=100), Field("outcome")),
        guards=(HAS_OPEN_ACTION_ITEM,),
        description="mark an action item done, with its outcome",
    )
    return add, complete
