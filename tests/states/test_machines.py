"""The four machines, pure: phases, guards, roles and data rules, and their description as data."""

import copy

import pytest

from states import ActionForbidden, ActionNotAllowed, InvalidData, StaleVersion, UnknownAction
from states.machine import KINDS, SPECS, describe
from states.opening import Report, open_case
from states.spec import PHASES, Context
from tests.states._support import opened
from tests.support import AGENT, NOW, SUPERVISOR


@pytest.mark.parametrize("kind", KINDS)
def test_every_action_names_real_phases_and_roles(kind):
    for action in SPECS[kind].actions:
        assert set(action.source) <= set(PHASES), action.name
        assert all(dest in PHASES for dest in action.destinations() if dest is not None), action.name
        assert "auditor" not in action.roles


@pytest.mark.parametrize("kind", KINDS)
def test_auditors_may_take_no_action_in_any_phase(kind):
    machine = opened(kind)
    for phase in PHASES:
        machine.case.state = str(phase)  # plain strings in the case, as states/opening.py makes them
        assert machine.allowed_actions("auditor", NOW) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_action_changes_nothing(kind):
    machine = opened(kind)
    before = copy.deepcopy(machine.case)
    for action in [action.name for action in SPECS[kind].actions if "report" not in action.source]:
        with pytest.raises((ActionNotAllowed, InvalidData)):
            machine.take(action, SUPERVISOR, {}, None, NOW)
    assert machine.case == before


def test_refusals_say_why():
    machine = opened("incident")
    with pytest.raises(UnknownAction):
        machine.check("teleport", "supervisor", None, NOW)
    with pytest.raises(ActionForbidden):
        opened().check("assign", "agent", {"owner": "bo"}, NOW)
    with pytest.raises(StaleVersion) as stale:
        machine.check("comment", "agent", None, NOW, expected_version=5)
    assert stale.value.current == 1
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    with pytest.raises(ActionNotAllowed) as refused:
        machine.check("plan_measures", "supervisor", None, NOW)
    assert refused.value.state == "analyse" and "plan_measures" not in refused.value.allowed_actions


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("record_cause", {"category": "weather", "description": "d"}, "data.category"),
        ("record_cause", {"category": "system"}, "data.description"),
        ("add_action_item", {"title": "t", "owner": "o", "due": "tomorrow"}, "data.due"),
        ("add_action_item", {"title": "t", "owner": "o", "due": "2030-01-01T00:00:00"}, "data.due"),
        ("complete_action_item", {"item_id": "item-9", "outcome": "o"}, "data.item_id"),
    ],
)
def test_data_errors_name_the_field(action, data, field):
    machine = opened("incident")
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    machine.take("add_action_item", SUPERVISOR, {"title": "t", "owner": "o", "due": "2030-01-01T00:00:00Z"}, None, NOW)
    with pytest.raises(InvalidData) as refused:
        machine.take(action, SUPERVISOR, data, None, NOW)
    assert refused.value.field == field


def test_measures_are_done_only_when_every_action_item_is():
    machine = opened("incident")
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    machine.take("record_cause", SUPERVISOR, {"category": "system", "description": "d"}, None, NOW)
    machine.take("plan_measures", SUPERVISOR, None, None, NOW)
    assert "measures_done" not in machine.allowed_actions("supervisor", NOW)  # no item yet
    machine.take("add_action_item", SUPERVISOR, {"title": "t", "owner": "o", "due": "2030-01-01T00:00:00Z"}, None, NOW)
    assert "measures_done" not in machine.allowed_actions("supervisor", NOW)  # one open
    machine.take("complete_action_item", SUPERVISOR, {"item_id": "item-1", "outcome": "ok"}, None, NOW)
    with pytest.raises(ActionNotAllowed):
        machine.take("complete_action_item", SUPERVISOR, {"item_id": "item-1", "outcome": "again"}, None, NOW)
    assert machine.take("measures_done", SUPERVISOR, None, None, NOW).to_state == "follow_up"


def test_reopening_is_possible_only_within_the_window():
    machine = opened()
    machine.take("start_analysis", AGENT, None, None, NOW)
    machine.take("dismiss", SUPERVISOR, {"reason": "r"}, None, NOW)
    late = Context("2026-12-30T08:00:00.000000Z", reopen_window_seconds=30 * 24 * 3600)
    with pytest.raises(ActionNotAllowed):
        machine.take("reopen", AGENT, {"reason": "r"}, None, late)
    assert machine.take("reopen", AGENT, {"reason": "r"}, None, Context("2026-11-30T08:00:00.000000Z")).to_state == "analyse"


@pytest.mark.parametrize("kind", KINDS)
def test_the_description_and_diagram_come_from_the_declaration(kind):
    described = describe(kind)
    assert [action["name"] for action in described["actions"]] == [action.name for action in SPECS[kind].actions]
    lines = described["mermaid"].splitlines()
    assert lines[0] == "stateDiagram-v2"
    expected = sum(len(action.source) * len(action.destinations()) for action in SPECS[kind].actions)
    assert len([line for line in lines if ": " in line]) == expected


def test_branches_are_drawn_both_ways():
    assert "    follow_up --> remediate: record_satisfaction [not satisfied]" in describe("complaint")["mermaid"].splitlines()
    assert "    follow_up --> analyse: record_effect [not effective]" in describe("improvement_plan")["mermaid"].splitlines()


@pytest.mark.parametrize(
    ("kind", "action", "data", "field"),
    [
        ("incident", "start_analysis", {"causes": [{"category": "made up"}]}, "data.causes"),
        ("complaint", "acknowledge", {"satisfied": True, "score": 99}, "data.satisfied"),
        ("complaint", "comment", {"reopen_reason": "x"}, "data.reopen_reason"),
    ],
)
def test_undeclared_data_cannot_set_what_other_actions_or_the_machine_record(kind, action, data, field):
    machine = opened(kind)
    with pytest.raises(InvalidData) as refused:
        machine.take(action, SUPERVISOR, data, None, NOW)
    assert refused.value.field == field


def test_a_report_cannot_smuggle_in_a_cause():
    with pytest.raises(InvalidData) as refused:
        open_case("i1", Report("incident", "t", data={"causes": ["x"]}), SUPERVISOR, NOW)
    assert refused.value.field == "data.causes"


@pytest.mark.parametrize("text", ["20300101T000000Z", "2030-W01-1T00:00Z", "2030-01-01T00:00Z", "2030-01-01T00:00:00"])
def test_times_must_be_rfc_3339_with_an_offset(text):
    machine = opened("incident")
    machine.take("start_analysis", SUPERVISOR, None, None, NOW)
    with pytest.raises(InvalidData) as refused:
        machine.take("add_action_item", SUPERVISOR, {"title": "t", "owner": "o", "due": text}, None, NOW)
    assert refused.value.field == "data.due"


def test_escalating_needs_the_incident_named_and_links_it_once():
    machine = opened("complaint")
    with pytest.raises(InvalidData):
        machine.take("escalate", SUPERVISOR, {"reason": "r"}, None, NOW)
    for _ in range(2):
        machine.take("escalate", SUPERVISOR, {"reason": "r", "incident_id": "i1"}, None, NOW)
    assert machine.case.links == [{"case_id": "i1", "relation": "escalated_to"}]
