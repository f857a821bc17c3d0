"""Each kind walked through every action it declares, loops included; `Walk` checks every event
(gap-free seq, from/to state, actor, version, stored allowed actions)."""

import pytest

from states.case import Actor
from states.machine import KINDS
from states.spec import ROLES
from states.vocabulary import Role, SystemAction
from tests.states._support import WALK_TEAM, Walk, declared_edges, valid_data
from tests.support import AGENT, COMPLAINT_WALK, FEEDBACK_WALK, IMPROVEMENT_WALK, MINUTES, SUPERVISOR, SYSTEM, Step, at

ESCALATES = {"complaint", "feedback"}


def housekeeping(kind: str, phase: str) -> list[Step]:
    """The actions every open phase offers: a comment, a claim of the case waiting in the team's
    queue, a reassignment, a new priority, an escalation."""
    steps = [
        Step(AGENT, "comment"),
        Step(SYSTEM, SystemAction.DISPATCH, {"team": WALK_TEAM}),
        Step(AGENT, "claim"),
        Step(SUPERVISOR, "assign", {"owner": f"owner-in-{phase}"}),
        Step(SUPERVISOR, "set_priority", {"priority": "urgent" if phase == "analyse" else "high"}),
    ]
    if kind in ESCALATES:
        steps.append(Step(SUPERVISOR, "escalate", {"reason": "wide impact", "incident_id": f"inc-{phase}"}))
    return steps


def with_housekeeping(kind: str, steps: list[Step]) -> list[Step]:
    """`steps`, with the housekeeping actions taken in each open phase the first time it is entered."""
    walk, phase, kept = [], "report", {"closed"}
    for step in steps:
        if phase not in kept:
            walk += housekeeping(kind, phase)
            kept.add(phase)
        walk.append(step)
        phase = step.to or phase
    return walk


def complaint_steps() -> list[Step]:
    return with_housekeeping("complaint", COMPLAINT_WALK)


def feedback_steps() -> list[Step]:
    reopened = [
        Step(AGENT, "reopen", {"reason": "the box broke again"}, to="analyse"),
        Step(AGENT, "route", {"department": "logistics partner"}, to="remediate"),
    ]
    return with_housekeeping("feedback", [*FEEDBACK_WALK, *reopened])


# Incidents and improvement plans also take action items in analyse, and incidents open improvement
# plans; their shared walks do neither, so they walk their own way here.
def item(title: str) -> dict:
    return {"title": title, "owner": "tech", "due": "2030-01-01T09:00:00+08:00"}


def meeting_people(phase: str) -> list[Step]:
    """A meeting's host, recorder and participants may be set or changed in every open phase."""
    return [
        Step(SUPERVISOR, "take_host"),
        Step(SUPERVISOR, "set_attendees", {"recorder": f"recorder-in-{phase}", "participants": ["ann", "bo"]}),
    ]


def incident_steps() -> list[Step]:
    return [
        *housekeeping("incident", "report"),
        *meeting_people("report"),
        Step(SUPERVISOR, "start_analysis", to="analyse"),
        *housekeeping("incident", "analyse"),
        *meeting_people("analyse"),
        Step(AGENT, "record_cause", {"category": "system", "description": "order service timed out"}),
        Step(AGENT, "record_cause", {"category": "human", "description": "alert ignored"}),
        Step(SUPERVISOR, "publish_minutes", valid_data("incident", "publish_minutes")),  # promptly (§4(3))
        Step(AGENT, "add_action_item", item("circuit breaker")),
        Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "deployed"}),
        Step(SUPERVISOR, "plan_measures", to="remediate"),
        *housekeeping("incident", "remediate"),
        *meeting_people("remediate"),
        Step(AGENT, "add_action_item", item("alert runbook")),
        Step(AGENT, "complete_action_item", {"item_id": "item-2", "outcome": "written"}),
        Step(SUPERVISOR, "publish_minutes", valid_data("incident", "publish_minutes")),
        Step(AGENT, "measures_done", to="follow_up"),
        *housekeeping("incident", "follow_up"),
        *meeting_people("follow_up"),
        Step(SUPERVISOR, "open_improvement_plan", {"title": "load tests", "plan_id": "plan-1"}),
        Step(SUPERVISOR, "publish_minutes", valid_data("incident", "publish_minutes")),
        Step(SUPERVISOR, "close", {"effect": "no time-outs", "lessons_learned": "load-test"}, to="closed"),
        Step(SUPERVISOR, "open_improvement_plan", {"problem": "slow first response", "plan_id": "plan-2"}),
    ]


def improvement_plan_steps() -> list[Step]:
    return [
        *housekeeping("improvement_plan", "report"),
        Step(SUPERVISOR, "start_analysis", to="analyse"),
        *housekeeping("improvement_plan", "analyse"),
        Step(AGENT, "record_cause", {"category": "training", "description": "new agents lack product knowledge"}),
        Step(AGENT, "add_action_item", item("product quiz")),
        Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "quiz written"}),
        Step(SUPERVISOR, "plan_measures", to="remediate"),
        *housekeeping("improvement_plan", "remediate"),
        Step(AGENT, "add_action_item", item("weekly training")),
        Step(AGENT, "complete_action_item", {"item_id": "item-2", "outcome": "four sessions"}),
        Step(AGENT, "evaluate", to="follow_up"),
        *housekeeping("improvement_plan", "follow_up"),
        *IMPROVEMENT_WALK[-4:],  # not effective: back to analyse, measures planned again, then effective
    ]


def meeting_steps() -> list[Step]:
    attendees = {"host": "sam", "recorder": "ann", "participants": ["ann", "sam", "bo"]}

    def kept(phase: str) -> list[Step]:
        return [*housekeeping("meeting", phase), Step(SUPERVISOR, "set_attendees", attendees)]

    system = Actor(SYSTEM.name, SYSTEM.name)  # the daily run keeps it current until it is held
    return [
        *kept("report"),
        Step(system, "refresh_agenda", {"review": {"review_id": "weekly-2026-W48", "open_tasks": []}}),
        Step(system, "change_host", {"host": "sam", "reason": "sue is away"}),
        Step(AGENT, "record_attendance", {"attended": ["ann", "sam"], "absent": ["bo"]}, to="analyse"),
        *kept("analyse"),
        Step(AGENT, "add_action_item", item("午间排班")),
        Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "done"}),
        Step(AGENT, "assign_tasks", to="remediate"),
        *kept("remediate"),
        Step(AGENT, "add_action_item", item("话术更新")),
        Step(AGENT, "complete_action_item", {"item_id": "item-2", "outcome": "done"}),
        Step(AGENT, "publish_minutes", MINUTES, to="follow_up"),
        *kept("follow_up"),
        Step(AGENT, "add_action_item", item("复盘")),
        Step(AGENT, "complete_action_item", {"item_id": "item-3", "outcome": "done"}),
        Step(SUPERVISOR, "close", to="closed"),
    ]


STEPS = {
    "complaint": complaint_steps,
    "feedback": feedback_steps,
    "incident": incident_steps,
    "improvement_plan": improvement_plan_steps,
    "meeting": meeting_steps,
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_walk_takes_every_declared_transition_of_the_kind(kind):
    walk = Walk(kind).run(STEPS[kind]())
    assert walk.edges() == declared_edges(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_events_are_numbered_without_gaps_and_chained(kind):
    walk = Walk(kind).run(STEPS[kind]())
    assert [event.seq for event in walk.events] == list(range(1, len(walk.events) + 1))
    assert walk.case.version == len(walk.events)
    assert walk.case.last_hash == walk.events[-1].hash
    assert all(later.from_state == earlier.to_state for earlier, later in zip(walk.events, walk.events[1:]))


@pytest.mark.parametrize("kind", KINDS)
def test_allowed_actions_stored_after_each_event_match_the_machine(kind):
    walk = Walk(kind)
    for step in STEPS[kind]():
        walk.take(step)
        expected = {role: walk.machine.allowed_actions(role, walk.ctx()) for role in ROLES}
        assert walk.case.allowed_actions == expected and expected[Role.AUDITOR] == []
    link = walk.machine.link("other-1", "related", SUPERVISOR, walk.ctx())
    assert link.seq == walk.case.version == len(walk.events) + 1
    assert walk.case.allowed_actions == {role: walk.machine.allowed_actions(role, walk.ctx()) for role in ROLES}


def test_unsatisfied_customer_sends_complaint_back_to_remediate_until_satisfied():
    walk = Walk("complaint").run(complaint_steps()[:-2])
    assert [event.to_state for event in walk.events[-3:]] == ["remediate", "follow_up", "closed"]
    assert walk.case.data["satisfied"] is True and walk.case.data["score"] == 5
    assert walk.case.closed_at == walk.events[-1].at


def test_reopened_complaint_returns_to_analyse_and_can_then_be_dismissed():
    walk = Walk("complaint").run(complaint_steps())
    reopened, dismissed = walk.events[-2:]
    assert (reopened.from_state, reopened.to_state, reopened.actor) == ("closed", "analyse", AGENT)
    assert walk.case.reopen_count == 1 and walk.case.data["reopen_reason"] == "the customer called back"
    assert dismissed.actor == SUPERVISOR and walk.case.closed_at == dismissed.at


def test_reopened_feedback_is_open_again_with_no_closing_time():
    walk = Walk("feedback").run(feedback_steps())
    assert walk.case.state == "remediate" and walk.case.closed_at is None and walk.case.reopen_count == 1


def test_assign_and_set_priority_change_owner_and_priority_in_every_open_phase():
    walk = Walk("incident").run(incident_steps()[:5])
    assert walk.case.owner == "owner-in-report" and walk.case.priority == "high"
    walk.run(incident_steps()[5:13])
    assert walk.case.owner == "owner-in-analyse" and walk.case.priority == "urgent"


def test_escalating_links_the_case_to_the_incident_and_keeps_the_phase():
    walk = Walk("complaint").run(housekeeping("complaint", "report"))
    assert walk.case.links == [{"case_id": "inc-report", "relation": "escalated_to"}]
    assert walk.case.state == "report"


def test_incident_records_every_cause_and_action_item_in_order():
    walk = Walk("incident").run(incident_steps())
    assert [cause["category"] for cause in walk.case.data["causes"]] == ["system", "human"]
    assert [(item["id"], item["done"]) for item in walk.case.action_items] == [("item-1", True), ("item-2", True)]
    assert walk.case.action_items[0]["due"] == "2030-01-01T01:00:00.000000Z"  # normalised to UTC
    assert {"case_id": "plan-2", "relation": "derived"} in walk.case.links
    assert walk.case.data["minutes"]["agenda"] == "the outage" and walk.case.closed_at is not None


def test_ineffective_improvement_plan_goes_back_to_analyse_and_keeps_its_causes():
    walk = Walk("improvement_plan").run(improvement_plan_steps()[:-3])
    assert walk.case.state == "analyse" and walk.case.closed_at is None
    assert walk.case.data["effective"] is False and walk.case.data["after_value"] == 0.71
    assert "plan_measures" in walk.machine.allowed_actions("supervisor", walk.ctx())
    walk.run(improvement_plan_steps()[-3:])
    assert walk.case.data["effective"] is True and walk.case.data["after_value"] == 0.93


def test_acknowledge_is_the_first_response_and_start_analysis_does_not_move_it():
    walk = Walk("complaint").run([Step(AGENT, "acknowledge")])
    first = walk.case.first_response_at
    assert first == walk.events[-1].at
    walk.run([Step(AGENT, "start_analysis", to="analyse")])
    assert walk.case.first_response_at == first


@pytest.mark.parametrize(("kind", "action"), [("complaint", "start_analysis"), ("feedback", "classify")])
def test_the_first_move_out_of_report_counts_as_first_response_if_none_yet(kind, action):
    walk = Walk(kind).run([Step(AGENT, "comment"), Step(AGENT, action, valid_data(kind, action), to="analyse")])
    assert walk.case.first_response_at == walk.events[-1].at


def test_a_comment_records_its_note_and_leaves_the_data_alone():
    walk = Walk("complaint")
    event = walk.take(Step(AGENT, "comment", {"channel_note": "called twice"}))
    assert event.note == "note 1" and event.data == {"channel_note": "called twice"}
    assert walk.case.data == {}


def test_an_agent_may_open_complaints_and_feedback():
    for kind in ("complaint", "feedback"):
        walk = Walk(kind, opener=AGENT)
        assert walk.case.created_by == "ann" and walk.case.created_at == at(0)
