"""Actions a phase does not offer are refused with the phase and what is possible instead, and a
refusal of any sort (not allowed, unknown, stale) leaves the case exactly as it was."""

import copy

import pytest

from states import ActionNotAllowed, StaleVersion, UnknownAction
from states.machine import KINDS, SPECS
from states.spec import PHASES
from tests.states._support import machine_in, opened, valid_data
from tests.support import AGENT, NOW, SUPERVISOR

PHASES_BY_KIND = [(kind, phase) for kind in KINDS for phase in PHASES]


def refuse(machine, action, actor, data, error=ActionNotAllowed, **kwargs):
    """Take an action that must be refused; check the case is untouched; return the error."""
    before = copy.deepcopy(machine.case)
    with pytest.raises(error) as refused:
        machine.take(action, actor, data, "note", NOW, **kwargs)
    assert machine.case == before
    assert machine.case.state == before.state and machine.case.version == before.version
    assert machine.case.data == before.data
    return refused.value


@pytest.mark.parametrize(("kind", "phase"), PHASES_BY_KIND)
def test_every_action_declared_for_other_phases_is_refused_with_the_phase_and_alternatives(kind, phase):
    machine = machine_in(kind, phase)
    elsewhere = [action.name for action in SPECS[kind].actions if phase not in action.source and "supervisor" in action.roles]
    assert elsewhere, "every phase has actions it does not offer"
    for action in elsewhere:
        refused = refuse(machine, action, SUPERVISOR, valid_data(kind, action))
        assert refused.action == action and refused.state == phase
        assert refused.allowed_actions == machine.allowed_actions("supervisor", NOW)
        assert action not in refused.allowed_actions


@pytest.mark.parametrize(
    ("kind", "phase", "action", "allowed"),
    [
        ("complaint", "report", "record_satisfaction", ["acknowledge", "start_analysis", "comment"]),
        ("complaint", "report", "complete_remedy", ["acknowledge", "start_analysis", "comment"]),
        ("complaint", "analyse", "acknowledge", ["record_findings", "propose_remedy", "comment"]),
        ("complaint", "remediate", "reopen", ["complete_remedy", "comment"]),
        ("complaint", "follow_up", "complete_remedy", ["record_satisfaction", "comment"]),
        ("complaint", "closed", "comment", ["reopen"]),
        ("complaint", "closed", "record_findings", ["reopen"]),
        ("feedback", "report", "route", ["classify", "comment"]),
        ("feedback", "follow_up", "classify", ["record_satisfaction", "comment"]),
        ("feedback", "closed", "record_result", ["reopen"]),
        ("incident", "report", "record_cause", ["start_analysis", "set_attendees", "comment"]),
        ("incident", "follow_up", "add_action_item", ["set_attendees", "publish_minutes", "comment"]),
        ("incident", "closed", "start_analysis", []),
        ("improvement_plan", "remediate", "record_cause", ["add_action_item", "evaluate", "comment"]),
        ("improvement_plan", "closed", "comment", []),
    ],
)
def test_an_agent_is_told_the_phase_and_the_actions_open_to_them(kind, phase, action, allowed):
    machine = machine_in(kind, phase)
    refused = refuse(machine, action, AGENT, valid_data(kind, action))
    assert (refused.state, refused.allowed_actions) == (phase, allowed)
    assert machine.case.allowed_actions["agent"] == allowed


def test_a_supervisor_sees_the_supervisor_actions_among_the_alternatives():
    refused = refuse(opened("complaint"), "propose_remedy", SUPERVISOR, {"solution": "s"})
    assert refused.allowed_actions == ["acknowledge", "start_analysis", "escalate", "comment", "assign", "set_priority"]


def test_a_refusal_because_of_the_phase_comes_before_any_check_of_the_data():
    machine = opened("complaint")
    refused = refuse(machine, "record_satisfaction", AGENT, {"satisfied": "very", "score": 99})
    assert refused.state == "report"


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_action_is_refused_with_the_actions_the_kind_knows(kind):
    machine = machine_in(kind, "analyse")
    refused = refuse(machine, "teleport", SUPERVISOR, None, UnknownAction)
    assert refused.action == "teleport"
    assert refused.known == [action.name for action in SPECS[kind].actions]


@pytest.mark.parametrize("kind", ["incident", "improvement_plan"])
def test_meetings_and_plans_know_no_reopen_or_satisfaction(kind):
    machine = machine_in(kind, "closed")
    refuse(machine, "reopen", SUPERVISOR, {"reason": "r"}, UnknownAction)
    refuse(machine, "record_satisfaction", SUPERVISOR, {"satisfied": True}, UnknownAction)


@pytest.mark.parametrize("kind", ["complaint", "feedback", "incident"])
def test_complaints_and_feedback_know_no_record_effect_and_incidents_no_evaluate(kind):
    action = "evaluate" if kind == "incident" else "record_effect"
    refuse(machine_in(kind, "report"), action, SUPERVISOR, None, UnknownAction)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stale_expected_version_is_refused_with_the_current_version(kind):
    machine = machine_in(kind, "analyse")
    current = machine.case.version
    assert current > 1
    refused = refuse(machine, "comment", AGENT, None, StaleVersion, expected_version=current - 1)
    assert (refused.expected, refused.current) == (current - 1, current)
    refused = refuse(machine, "comment", AGENT, None, StaleVersion, expected_version=current + 1)
    assert refused.current == current


def test_the_current_expected_version_is_accepted():
    machine = machine_in("complaint", "analyse")
    event = machine.take("comment", AGENT, None, None, NOW, expected_version=machine.case.version)
    assert event.seq == machine.case.version == 3


def test_check_refuses_like_take_and_changes_nothing():
    machine = opened("feedback")
    before = copy.deepcopy(machine.case)
    assert machine.check("classify", "agent", {"category": "account"}, NOW) == {"category": "account"}
    with pytest.raises(ActionNotAllowed):
        machine.check("route", "agent", {"department": "d"}, NOW)
    assert machine.case == before
