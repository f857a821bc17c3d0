"""What each action does beyond moving the phase is read from its declaration: these pin it."""

from states.machine import DISMISSING_ACTIONS, SPECS, declarations, notifies
from states.spec import ClockChange
from states.vocabulary import Kind, Relation, SystemAction


def declared(where) -> dict[str, set[str]]:
    return {kind: {action.name for action in spec.actions if where(action)} for kind, spec in SPECS.items()}


def test_the_webhook_hears_of_timers_escalations_and_assignments():
    events = [*SystemAction, *{action.name for spec in SPECS.values() for action in spec.actions}]
    heard = {kind: {event for event in events if notifies(kind, event)} for kind in SPECS}
    timers = {SystemAction.SLA_WARNING, SystemAction.SLA_BREACHED, SystemAction.ACTION_ITEM_DUE_SOON, SystemAction.ACTION_ITEM_OVERDUE}
    assert heard == {
        Kind.COMPLAINT: timers | {"escalate", "assign"},
        Kind.FEEDBACK: timers | {"escalate", "assign"},
        Kind.INCIDENT: timers | {"assign"},
        Kind.IMPROVEMENT_PLAN: timers | {"assign"},
        Kind.MEETING: timers | {"assign"},
    }


def test_the_first_response_is_acknowledging_classifying_or_starting_the_analysis():
    assert declared(lambda action: action.first_response) == {
        Kind.COMPLAINT: {"acknowledge", "start_analysis"},
        Kind.FEEDBACK: {"classify"},
        Kind.INCIDENT: {"start_analysis"},
        Kind.IMPROVEMENT_PLAN: {"start_analysis"},
        Kind.MEETING: set(),
    }


def test_escalating_opens_or_joins_an_incident_and_opening_a_plan_opens_one():
    (escalate,) = set(declarations("escalate"))
    assert escalate.opens is not None
    assert (escalate.opens.kind, escalate.opens.relation, escalate.opens.back) == (Kind.INCIDENT, Relation.ESCALATED_TO, Relation.ESCALATED_FROM)
    assert escalate.opens.may_join_open and escalate.taken_on_breach == "first_response"
    (plan,) = declarations("open_improvement_plan")
    assert plan.opens is not None
    assert (plan.opens.kind, plan.opens.relation, plan.opens.back, plan.opens.may_join_open) == (
        Kind.IMPROVEMENT_PLAN,
        Relation.DERIVED,
        Relation.SOURCE,
        False,
    )


def test_closing_an_incident_tells_the_cases_escalated_into_it():
    close = SPECS[Kind.INCIDENT].by_name["close"]
    assert close.tells is not None
    assert (close.tells.notice, close.tells.relation) == (SystemAction.INCIDENT_CLOSED, Relation.ESCALATED_FROM)


def test_reopening_restarts_the_clocks_and_a_new_priority_retargets_them():
    assert declared(lambda action: action.clocks is ClockChange.RESTART) == {
        Kind.COMPLAINT: {"reopen"},
        Kind.FEEDBACK: {"reopen"},
        Kind.INCIDENT: set(),
        Kind.IMPROVEMENT_PLAN: set(),
        Kind.MEETING: set(),
    }
    assert all(names == {"set_priority"} for names in declared(lambda action: action.clocks is ClockChange.RETARGET).values())


def test_an_evaluation_is_measured_since_the_measures_were_planned_and_a_dismissal_is_no_resolution():
    (evaluate,) = declarations("evaluate")
    assert evaluate.measures_since == "plan_measures"
    assert DISMISSING_ACTIONS == ("dismiss",)
