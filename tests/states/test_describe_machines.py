"""`describe(kind)`: the declaration as data and as a Mermaid diagram, both drawn from the spec."""

import pytest

from states import InvalidData
from states.machine import KINDS, SPECS, describe
from states.spec import PHASES


def transition_lines(kind: str) -> list[str]:
    """The diagram's transition lines, without indentation or the start and end markers."""
    lines = [line.strip() for line in describe(kind)["mermaid"].splitlines()[1:]]
    return [line for line in lines if "[*]" not in line]


def expected_lines(kind: str) -> list[str]:
    """One line per (source, action), two for a branch, derived from the spec's data."""
    expected = []
    for action in SPECS[kind].actions:
        guards = f" [{', '.join(guard.name for guard in action.guards)}]" if action.guards else ""
        for source in action.source:
            if action.branch:
                field = action.branch.field
                expected.append(f"{source} --> {action.branch.when_true}: {action.name} [{field}]")
                expected.append(f"{source} --> {action.branch.when_false}: {action.name} [not {field}]")
            else:
                expected.append(f"{source} --> {action.dest or source}: {action.name}{guards}")
    return expected


@pytest.mark.parametrize("kind", KINDS)
def test_the_diagram_has_one_line_per_source_and_action_and_both_ways_for_branches(kind):
    mermaid = describe(kind)["mermaid"]
    lines = mermaid.splitlines()
    assert mermaid.startswith("stateDiagram-v2") and lines[0] == "stateDiagram-v2"
    assert lines[1].strip() == "[*] --> report" and lines[-1].strip() == "closed --> [*]"
    assert transition_lines(kind) == expected_lines(kind)
    pairs = sum(len(action.source) * len(action.destinations()) for action in SPECS[kind].actions)
    assert len(transition_lines(kind)) == pairs


@pytest.mark.parametrize("kind", KINDS)
def test_every_action_appears_in_the_description_and_the_diagram(kind):
    described = describe(kind)
    names = [action.name for action in SPECS[kind].actions]
    assert [action["name"] for action in described["actions"]] == names
    drawn = {line.split(": ", 1)[1].split(" [")[0] for line in transition_lines(kind)}
    assert drawn == set(names)


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("complaint", "follow_up --> remediate: record_satisfaction [not satisfied]"),
        ("complaint", "follow_up --> closed: record_satisfaction [satisfied]"),
        ("complaint", "closed --> analyse: reopen [within_reopen_window]"),
        ("complaint", "analyse --> closed: dismiss"),
        ("complaint", "report --> report: acknowledge"),
        ("complaint", "follow_up --> follow_up: comment"),
        ("feedback", "follow_up --> remediate: record_satisfaction [not satisfied]"),
        ("feedback", "report --> analyse: classify"),
        ("incident", "analyse --> remediate: plan_measures [has_cause]"),
        ("incident", "remediate --> follow_up: measures_done [has_action_item, no_open_action_item]"),
        ("incident", "remediate --> remediate: complete_action_item [has_open_action_item]"),
        ("incident", "closed --> closed: open_improvement_plan"),
        ("improvement_plan", "follow_up --> analyse: record_effect [not effective]"),
        ("improvement_plan", "follow_up --> closed: record_effect [effective]"),
        ("improvement_plan", "remediate --> follow_up: evaluate [no_open_action_item]"),
    ],
)
def test_the_diagram_draws_these_lines(kind, line):
    assert f"    {line}" in describe(kind)["mermaid"].splitlines()


@pytest.mark.parametrize("kind", KINDS)
def test_comment_and_assign_are_drawn_in_every_open_phase_and_not_in_closed(kind):
    lines = transition_lines(kind)
    for phase in PHASES[:-1]:
        assert f"{phase} --> {phase}: comment" in lines
        assert f"{phase} --> {phase}: assign" in lines
    assert "closed --> closed: comment" not in lines


@pytest.mark.parametrize("kind", KINDS)
def test_the_description_carries_phases_roles_fields_and_guards(kind):
    described = describe(kind)
    assert described["kind"] == kind and described["description"] == SPECS[kind].description
    assert described["states"] == PHASES and described["initial"] == "report"
    assert described["create_roles"] == list(SPECS[kind].create_roles)
    assert [field["name"] for field in described["report_fields"]] == [field.name for field in SPECS[kind].report_fields]
    for action, declared in zip(described["actions"], SPECS[kind].actions):
        assert action["from"] == list(declared.source) and action["roles"] == list(declared.roles)
        assert [field["name"] for field in action["fields"]] == [field.name for field in declared.fields]
        assert [guard["name"] for guard in action["guards"]] == [guard.name for guard in declared.guards]
        assert "auditor" not in action["roles"]


def test_branches_are_described_with_both_destinations():
    actions = {action["name"]: action for action in describe("complaint")["actions"]}
    assert actions["record_satisfaction"]["to"] is None
    assert actions["record_satisfaction"]["branch"] == {"field": "satisfied", "true": "closed", "false": "remediate"}
    effect = {action["name"]: action for action in describe("improvement_plan")["actions"]}["record_effect"]
    assert effect["branch"] == {"field": "effective", "true": "closed", "false": "analyse"}
    assert effect["roles"] == ["supervisor", "manager"]


def test_fields_are_described_with_their_type_choices_and_bounds():
    actions = {action["name"]: action for action in describe("complaint")["actions"]}
    assert actions["record_satisfaction"]["fields"] == [
        {"name": "satisfied", "type": "boolean", "required": True},
        {"name": "score", "type": "integer", "required": False, "minimum": 1, "maximum": 5},
    ]
    classify = {action["name"]: action for action in describe("feedback")["actions"]}["classify"]
    assert classify["fields"][0]["choices"] == ["product_quality", "service_process", "account", "logistics", "other"]
    incident = {action["name"]: action for action in describe("incident")["actions"]}
    assert incident["record_cause"]["fields"][0]["choices"] == ["process", "system", "human", "other"]
    plan = {action["name"]: action for action in describe("improvement_plan")["actions"]}
    assert plan["record_cause"]["fields"][0]["choices"] == ["training", "process", "attitude", "tooling", "other"]


def test_describing_an_unknown_kind_names_the_kind():
    with pytest.raises(InvalidData) as refused:
        describe("question")
    assert refused.value.field == "kind"
