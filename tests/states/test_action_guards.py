"""Guards: causes before measures, action items before leaving remediate, the reopen window."""

import copy

import pytest

from states import ActionNotAllowed, InvalidData
from states.spec import Context
from tests.states._support import machine_in, opened
from tests.support import AGENT, DUE, NOW, SUPERVISOR, at

ITEM = {"title": "circuit breaker", "owner": "tech", "due": DUE}


def refused(machine, action, data=None, error=ActionNotAllowed, ctx=NOW, actor=SUPERVISOR):
    before = copy.deepcopy(machine.case)
    with pytest.raises(error) as raised:
        machine.take(action, actor, data, None, ctx)
    assert machine.case == before
    return raised.value


def in_analysis(kind):
    machine = opened(kind)
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    return machine


def in_remediation(kind):
    machine = in_analysis(kind)
    machine.take("record_cause", AGENT, {"category": "process", "description": "d"}, None, NOW)
    machine.take("plan_measures", SUPERVISOR, None, None, NOW)
    return machine


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_measures_cannot_be_planned_before_a_cause_is_recorded(kind):
    machine = in_analysis(kind)
    assert "plan_measures" not in machine.allowed_actions("supervisor", NOW)
    error = refused(machine, "plan_measures")
    assert error.state == "analyse" and "at least one cause" in str(error)
    assert error.allowed_actions == machine.allowed_actions("supervisor", NOW)
    machine.take("record_cause", AGENT, {"category": "other", "description": "d"}, None, NOW)
    assert "plan_measures" in machine.case.allowed_actions["supervisor"]
    assert machine.take("plan_measures", SUPERVISOR, None, None, NOW).to_state == "remediate"


def test_incident_measures_are_not_done_without_any_action_item():
    machine = in_remediation("incident")
    error = refused(machine, "measures_done")
    assert error.state == "remediate" and "at least one action item" in str(error)


def test_incident_measures_are_not_done_while_an_action_item_is_open():
    machine = in_remediation("incident")
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("complete_action_item", AGENT, {"item_id": "item-2", "outcome": "done"}, None, NOW)
    error = refused(machine, "measures_done")
    assert "every action item is done" in str(error) and "at least one" not in str(error)
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "done"}, None, NOW)
    assert machine.take("measures_done", AGENT, None, None, NOW).to_state == "follow_up"


def test_action_items_done_during_analysis_count_for_measures_done():
    machine = in_analysis("incident")
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "done"}, None, NOW)
    machine.take("record_cause", AGENT, {"category": "system", "description": "d"}, None, NOW)
    machine.take("plan_measures", SUPERVISOR, None, None, NOW)
    assert "measures_done" in machine.allowed_actions("agent", NOW)


def test_improvement_plan_is_not_evaluated_while_an_action_item_is_open():
    machine = in_remediation("improvement_plan")
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    error = refused(machine, "evaluate", actor=AGENT)
    assert error.state == "remediate" and "evaluate" not in error.allowed_actions
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "held"}, None, NOW)
    assert machine.take("evaluate", AGENT, None, None, NOW).to_state == "follow_up"


def test_improvement_plan_may_be_evaluated_with_no_action_items_at_all():
    assert in_remediation("improvement_plan").take("evaluate", AGENT, None, None, NOW).to_state == "follow_up"


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_an_action_item_is_recorded_open_with_its_owner_and_deadline_in_utc(kind):
    machine = in_analysis(kind)
    event = machine.take("add_action_item", AGENT, {**ITEM, "due": "2030-01-01T17:00:00+08:00"}, None, NOW)
    assert event.data["item_id"] == "item-1"
    assert machine.case.action_items == [
        {"id": "item-1", "title": "circuit breaker", "owner": "tech", "due": "2030-01-01T09:00:00.000000Z", "done": False, "outcome": None,
         "created_at": NOW.now}
    ]  # fmt: skip
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    assert [item["id"] for item in machine.case.open_action_items()] == ["item-1", "item-2"]


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_completing_an_action_item_records_its_outcome_and_time(kind):
    machine = in_analysis(kind)
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    later = Context(at(3600))
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "deployed"}, None, later)
    item = machine.case.action_items[0]
    assert (item["done"], item["outcome"], item["done_at"]) == (True, "deployed", later.now)


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_completing_an_unknown_action_item_names_the_item_id(kind):
    machine = in_analysis(kind)
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    error = refused(machine, "complete_action_item", {"item_id": "item-9", "outcome": "o"}, InvalidData)
    assert error.field == "data.item_id" and "item-9" in error.message


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_completing_an_action_item_twice_is_not_allowed(kind):
    machine = in_analysis(kind)
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "o"}, None, NOW)
    error = refused(machine, "complete_action_item", {"item_id": "item-1", "outcome": "again"})
    assert error.state == "analyse" and "already done" in str(error)
    assert "complete_action_item" in error.allowed_actions  # item-2 is still open


def test_with_every_item_done_completing_one_again_is_refused_by_the_guard():
    machine = in_analysis("incident")
    machine.take("add_action_item", AGENT, ITEM, None, NOW)
    machine.take("complete_action_item", AGENT, {"item_id": "item-1", "outcome": "o"}, None, NOW)
    error = refused(machine, "complete_action_item", {"item_id": "item-1", "outcome": "again"})
    assert "complete_action_item" not in error.allowed_actions
    assert "an action item is still open" in str(error)


def closed_at_t0(kind):
    machine = machine_in(kind, "closed", ctx=NOW)
    assert machine.case.closed_at == NOW.now
    return machine


@pytest.mark.parametrize("kind", ["complaint", "feedback"])
def test_a_closed_case_reopens_to_analyse_within_the_window(kind):
    machine = closed_at_t0(kind)
    inside = Context(at(3600), reopen_window_seconds=3600)  # exactly at the edge still counts
    assert machine.allowed_actions("agent", inside) == ["reopen"]
    event = machine.take("reopen", AGENT, {"reason": "came back"}, None, inside)
    assert (event.from_state, event.to_state) == ("closed", "analyse")
    assert machine.case.closed_at is None and machine.case.reopen_count == 1
    assert machine.case.data["reopen_reason"] == "came back"


@pytest.mark.parametrize("kind", ["complaint", "feedback"])
def test_reopening_after_the_window_is_refused(kind):
    machine = closed_at_t0(kind)
    late = Context(at(3601), reopen_window_seconds=3600)
    assert machine.allowed_actions("agent", late) == []
    error = refused(machine, "reopen", {"reason": "too late"}, ctx=late, actor=AGENT)
    assert error.state == "closed" and error.allowed_actions == []
    assert "reopen window" in str(error)


def test_the_default_reopen_window_is_thirty_days():
    machine = closed_at_t0("complaint")
    refused(machine, "reopen", {"reason": "r"}, ctx=Context(at(30 * 24 * 3600 + 1)), actor=AGENT)
    assert machine.take("reopen", AGENT, {"reason": "r"}, None, Context(at(30 * 24 * 3600))).to_state == "analyse"


def test_a_complaint_can_be_reopened_again_after_closing_again():
    machine = closed_at_t0("complaint")
    machine.take("reopen", AGENT, {"reason": "first"}, None, Context(at(60)))
    machine.take("dismiss", SUPERVISOR, {"reason": "no"}, None, Context(at(120)))
    assert machine.case.closed_at == at(120)
    late_for_first = Context(at(120 + 3600), reopen_window_seconds=3600)  # the window runs from the last close
    machine.take("reopen", AGENT, {"reason": "second"}, None, late_for_first)
    assert machine.case.reopen_count == 2 and machine.case.data["reopen_reason"] == "second"
