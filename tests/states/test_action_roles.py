"""Who may do what: supervisor-only actions, auditors who change nothing, who may open which kind."""

import copy

import pytest

from states import ActionForbidden
from states.case import Actor
from states.machine import KINDS, SPECS
from states.opening import Report, open_case
from states.spec import PHASES
from tests.states._support import machine_in, opened, valid_data
from tests.support import AGENT, AUDITOR, NOW, SUPERVISOR, SYSTEM

SYSTEM_ONLY = {"meeting": {"refresh_agenda", "change_host"}}
SUPERVISOR_ONLY = {
    "complaint": {"dismiss", "escalate", "assign", "set_priority"},
    "feedback": {"escalate", "assign", "set_priority"},
    "incident": {"take_host", "close", "open_improvement_plan", "assign", "set_priority"},
    "improvement_plan": {"plan_measures", "record_effect", "assign", "set_priority"},
    "meeting": {"close", "set_attendees", "assign", "set_priority"},
}
# (kind, phase, action): a supervisor-only action in a phase where the supervisor may take it.
SUPERVISOR_MOMENTS = [
    ("complaint", "report", "assign"),
    ("complaint", "follow_up", "assign"),
    ("complaint", "analyse", "dismiss"),
    ("complaint", "remediate", "escalate"),
    ("feedback", "analyse", "assign"),
    ("feedback", "report", "set_priority"),
    ("incident", "remediate", "assign"),
    ("incident", "follow_up", "close"),
    ("incident", "closed", "open_improvement_plan"),
    ("improvement_plan", "analyse", "plan_measures"),
    ("improvement_plan", "follow_up", "record_effect"),
    ("improvement_plan", "report", "assign"),
]


def prepared(kind, phase, action):
    machine = machine_in(kind, phase)
    if action == "plan_measures":  # guarded: needs a cause first
        machine.take("record_cause", AGENT, valid_data(kind, "record_cause"), None, NOW)
    return machine


def forbid(machine, action, actor, data):
    before = copy.deepcopy(machine.case)
    with pytest.raises(ActionForbidden) as refused:
        machine.take(action, actor, data, None, NOW)
    assert machine.case == before
    return refused.value


@pytest.mark.parametrize("kind", KINDS)
def test_the_supervisor_only_actions_are_exactly_those_declared(kind):
    declared = {action.name for action in SPECS[kind].actions if "agent" not in action.roles and action.name not in SYSTEM_ONLY.get(kind, set())}
    assert declared == SUPERVISOR_ONLY[kind]
    assert all("supervisor" in action.roles for action in SPECS[kind].actions if action.name not in SYSTEM_ONLY.get(kind, set()))
    # The system's own: the daily run keeps a meeting not yet held current (service/meetings.py).
    assert {action.name for action in SPECS[kind].actions if action.roles == (SYSTEM.name,)} == SYSTEM_ONLY.get(kind, set())


@pytest.mark.parametrize(("kind", "phase", "action"), SUPERVISOR_MOMENTS)
def test_an_agent_may_not_take_a_supervisor_only_action(kind, phase, action):
    machine = prepared(kind, phase, action)
    assert action in machine.allowed_actions("supervisor", NOW)
    assert action not in machine.allowed_actions("agent", NOW)
    refused = forbid(machine, action, AGENT, valid_data(kind, action))
    assert (refused.action, refused.role) == (action, "agent")
    assert "supervisor" in refused.roles and "agent" not in refused.roles


@pytest.mark.parametrize(("kind", "phase", "action"), SUPERVISOR_MOMENTS)
def test_the_supervisor_may_take_it(kind, phase, action):
    machine = prepared(kind, phase, action)
    event = machine.take(action, SUPERVISOR, valid_data(kind, action), None, NOW)
    assert event.actor == SUPERVISOR


def test_a_role_check_comes_before_the_phase_check():
    refused = forbid(opened("complaint"), "dismiss", AGENT, {"reason": "r"})
    assert refused.roles == ["supervisor", "manager"]


@pytest.mark.parametrize(("kind", "phase"), [(kind, phase) for kind in KINDS for phase in PHASES])
def test_auditors_may_take_no_action_in_any_phase(kind, phase):
    machine = machine_in(kind, phase)
    assert machine.allowed_actions("auditor", NOW) == []
    assert machine.case.allowed_actions["auditor"] == []
    for action in machine.allowed_actions("supervisor", NOW):
        refused = forbid(machine, action, AUDITOR, valid_data(kind, action))
        assert refused.role == "auditor"


def test_an_actor_without_a_role_is_checked_by_name():
    machine = opened("complaint")
    forbid(machine, "comment", Actor("ann"), None)
    event = machine.take("escalate", SYSTEM, {"reason": "first response overdue", "incident_id": "i"}, None, NOW)
    assert event.actor == SYSTEM


@pytest.mark.parametrize("kind", ["improvement_plan"])
def test_only_a_supervisor_may_open_improvement_plans(kind):
    with pytest.raises(ActionForbidden) as refused:
        open_case("case-1", Report(kind, "t"), AGENT, NOW)
    assert refused.value.role == "agent" and refused.value.roles == ["supervisor", "manager"]
    machine, event = open_case("case-1", Report(kind, "t"), SUPERVISOR, NOW)
    assert event.actor == SUPERVISOR and machine.case.owner == "sam"


@pytest.mark.parametrize("kind", KINDS)
def test_an_auditor_may_open_no_case(kind):
    with pytest.raises(ActionForbidden) as refused:
        open_case("case-1", Report(kind, "t"), AUDITOR, NOW)
    assert refused.value.role == "auditor"


@pytest.mark.parametrize("kind", KINDS)
def test_the_system_may_open_any_kind(kind):
    machine, event = open_case("case-1", Report(kind, "t"), SYSTEM, NOW)
    assert machine.case.created_by == "system" and event.seq == 1


def test_create_roles_are_declared_per_kind():
    assert {kind: list(SPECS[kind].create_roles) for kind in KINDS} == {
        "complaint": ["agent", "supervisor", "manager"],
        "feedback": ["agent", "supervisor", "manager"],
        "incident": ["agent", "supervisor", "manager"],
        "improvement_plan": ["supervisor", "manager"],
        "meeting": ["supervisor", "manager"],
    }
