"""A case's machine can take back what it took since a copy: what the workflow does when the read
model refuses a change for good."""

from states.case import Actor, copy_case
from states.opening import Report, open_case
from states.spec import Context

AGENT = Actor("ann", "agent")
SUPERVISOR = Actor("sam", "supervisor")


def context(minute: int) -> Context:
    return Context(f"2026-11-22T10:{minute:02d}:00.000000Z", 3600)


def test_restoring_a_copy_takes_back_phase_version_data_items_and_the_hash_chain():
    machine, _ = open_case("c-1", Report(kind="incident", title="t", description="d"), SUPERVISOR, context(0))
    machine.take("start_analysis", AGENT, {}, None, context(1))
    machine.take("add_action_item", AGENT, {"title": "fix", "owner": "bo", "due": "2030-01-01T00:00:00Z"}, None, context(2))
    before = copy_case(machine.case)
    assert before == machine.case and before.action_items is not machine.case.action_items

    item_id = machine.case.action_items[0]["id"]
    machine.take("complete_action_item", AGENT, {"item_id": item_id, "outcome": "done"}, "note", context(3))
    machine.take("assign", SUPERVISOR, {"owner": "cy"}, None, context(4))
    assert machine.case != before

    machine.restore(before)
    assert machine.case == before
    assert machine.case.action_items[0]["done"] is False
    # The machine's phase is restored with the case: the same action can be taken again, from there.
    event = machine.take("complete_action_item", AGENT, {"item_id": item_id, "outcome": "done"}, None, context(5))
    assert (event.seq, event.prev_hash) == (before.version + 1, before.last_hash)


def test_restoring_a_copy_takes_back_the_phase():
    machine, _ = open_case("c-2", Report(kind="complaint", title="t", description="d"), AGENT, context(0))
    before = copy_case(machine.case)
    machine.take("start_analysis", AGENT, {}, None, context(1))
    assert machine.case.state == "analyse" and "start_analysis" not in machine.allowed_actions("agent", context(2))

    machine.restore(before)
    assert machine.case.state == "report" and "start_analysis" in machine.allowed_actions("agent", context(2))
    assert machine.take("start_analysis", AGENT, {}, None, context(2)).to_state == "analyse"
