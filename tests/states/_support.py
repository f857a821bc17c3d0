"""Helpers for the pure state-machine tests: valid data for every action, the shortest path to each
phase, and a `Walk` that takes steps on the machine and checks every event it gets back. The clock,
the actors and `Step` are tests/support.py's."""

from __future__ import annotations

import copy
from typing import Any

from states.case import Actor, Authority, Event
from states.chain import GENESIS
from states.machine import SPECS, CaseMachine
from states.opening import Report, open_case
from states.spec import ROLES, Context
from states.vocabulary import SYSTEM, SystemAction
from tests.support import AGENT, DUE, MINUTES, NOW, SUPERVISOR, Step, at

# Every person in a walk is a member of this team; the ownership rule is off, so that any of them
# may move the case (tests/states/test_ownership.py holds the rule itself).
WALK_TEAM = "walk-team"

# Data that passes validation for every action of every kind (the kind picks the category).
VALID_DATA: dict[str, dict[str, Any] | None] = {
    "acknowledge": None,
    "start_analysis": None,
    "record_findings": {"findings": "the parcel was left at the wrong station"},
    "propose_remedy": {"solution": "redeliver"},
    "dismiss": {"reason": "the facts do not support it"},
    "complete_remedy": {"resolution": "redelivered"},
    "record_satisfaction": {"satisfied": True, "score": 5},
    "reopen": {"reason": "the customer called back"},
    "escalate": {"reason": "many customers affected", "incident_id": "inc-1"},
    "comment": None,
    "claim": None,
    "assign": {"owner": "bo"},
    "set_priority": {"priority": "high"},
    "classify": {"category": "logistics"},
    "route": {"department": "warehouse"},
    "record_result": {"result": "packing changed"},
    "plan_measures": None,
    "add_action_item": {"title": "add a circuit breaker", "owner": "tech", "due": DUE},
    "complete_action_item": {"item_id": "item-1", "outcome": "deployed"},
    "measures_done": None,
    "close": {"effect": "no time-outs since", "lessons_learned": "load-test first", "minutes": "minutes"},
    "open_improvement_plan": {"title": "load tests", "plan_id": "plan-1"},
    "take_host": None,
    "set_attendees": {"host": "sam", "recorder": "ann", "participants": ["ann", "bo"]},
    "refresh_agenda": {"review": {"review_id": "weekly-2026-W48", "open_tasks": []}},
    "change_host": {"host": "sue", "reason": "sam is away"},
    "publish_minutes": {
        "held_at": "2026-11-22T18:00:00+08:00",
        "place": "会议室 A",
        "participants": ["ann", "bo"],
        "host": "sam",
        "agenda": "the outage",
        "discussion": "why the time-outs",
        "decisions": "add a circuit breaker",
        "tasks": "tech: circuit breaker",
    },
    "evaluate": None,
    "record_effect": {"effective": True, "after_value": 0.93},
    "record_attendance": {"attended": ["ann", "sam"], "absent": ["bo"]},
    "assign_tasks": None,
}
CAUSE = {"incident": "system", "improvement_plan": "training"}


def valid_data(kind: str, action: str) -> dict[str, Any] | None:
    if action == "record_cause":
        return {"category": CAUSE[kind], "description": "why it happened"}
    return copy.deepcopy(VALID_DATA[action])


# The shortest way from report to each later phase, per kind.
PATHS: dict[str, list[Step]] = {
    "complaint": [
        Step(AGENT, "start_analysis"),
        Step(AGENT, "propose_remedy", {"solution": "redeliver"}),
        Step(AGENT, "complete_remedy", {"resolution": "redelivered"}),
        Step(AGENT, "record_satisfaction", {"satisfied": True}),
    ],
    "feedback": [
        Step(AGENT, "classify", {"category": "logistics"}),
        Step(AGENT, "route", {"department": "warehouse"}),
        Step(AGENT, "record_result", {"result": "packing changed"}),
        Step(AGENT, "record_satisfaction", {"satisfied": True}),
    ],
    "incident": [
        Step(SUPERVISOR, "start_analysis"),
        Step(AGENT, "record_cause", {"category": "system", "description": "time-outs"}),
        Step(SUPERVISOR, "plan_measures"),
        Step(AGENT, "add_action_item", {"title": "circuit breaker", "owner": "tech", "due": DUE}),
        Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "deployed"}),
        Step(AGENT, "measures_done"),
        Step(SUPERVISOR, "close", {"effect": "fixed", "lessons_learned": "load-test", "minutes": "m"}),
    ],
    "improvement_plan": [
        Step(SUPERVISOR, "start_analysis"),
        Step(AGENT, "record_cause", {"category": "training", "description": "new agents"}),
        Step(SUPERVISOR, "plan_measures"),
        Step(AGENT, "evaluate"),
        Step(SUPERVISOR, "record_effect", {"effective": True, "after_value": 0.9}),
    ],
    "meeting": [
        Step(AGENT, "record_attendance", {"attended": ["ann", "sam"]}),
        Step(AGENT, "assign_tasks"),
        Step(AGENT, "publish_minutes", MINUTES),
        Step(SUPERVISOR, "close"),
    ],
}


def opened(kind: str = "complaint", actor: Actor = SUPERVISOR, ctx: Context = NOW, **report: Any) -> CaseMachine:
    report.setdefault("title", "a case")
    return open_case("case-1", Report(kind, **report), actor, ctx)[0]


def machine_in(kind: str, phase: str, ctx: Context = NOW) -> CaseMachine:
    """A fresh case of `kind` walked along its path until it first reaches `phase`."""
    machine = opened(kind, ctx=ctx)
    steps = iter(PATHS[kind])
    while machine.case.state != phase:
        step = next(steps)
        machine.take(step.action, step.actor, step.data, None, ctx)
    return machine


def stored_allowed_actions_match(machine: CaseMachine, ctx: Context) -> bool:
    return machine.case.allowed_actions == {role: machine.allowed_actions(role, ctx) for role in ROLES}


class Walk:
    """Opens a case and takes steps, each a minute after the last, checking every event."""

    def __init__(self, kind: str, opener: Actor = SUPERVISOR, window: int = 30 * 24 * 3600):
        self.kind, self.window, self.minutes = kind, window, 0
        self.machine, opening = open_case("case-1", Report(kind, "a case"), opener, self.ctx())
        assert (opening.seq, opening.action, opening.from_state, opening.to_state) == (1, "report", None, "report")
        assert opening.actor == opener and opening.prev_hash == GENESIS
        assert self.case.version == 1 and self.case.owner == opener.name
        assert stored_allowed_actions_match(self.machine, self.ctx())
        self.events: list[Event] = [opening]

    @property
    def case(self):
        return self.machine.case

    def ctx(self, actor: Actor | None = None) -> Context:
        authority = None if actor is None or actor.name == SYSTEM else Authority(actor.name, (WALK_TEAM,), (WALK_TEAM,), ownership=False)
        return Context(at(60 * self.minutes), reopen_window_seconds=self.window, authority=authority)

    def take(self, step: Step) -> Event:
        """Take the step; a `dispatch` step puts the case in the team of its data, without an owner."""
        self.minutes += 1
        ctx, before = self.ctx(step.actor), self.case.state
        if step.action == SystemAction.DISPATCH:
            event = self.machine.dispatch((step.data or {})["team"], None, {}, ctx)
            event.note = f"note {self.minutes}"
        else:
            event = self.machine.take(step.action, step.actor, step.data, f"note {self.minutes}", ctx)
        expected_to = step.to or before
        assert event.seq == len(self.events) + 1 == self.case.version, step
        assert (event.action, event.from_state, event.to_state) == (step.action, before, expected_to), step
        assert self.case.state == expected_to, step
        assert event.actor == step.actor and event.at == ctx.now and event.note == f"note {self.minutes}"
        assert event.prev_hash == self.events[-1].hash and event.hash != event.prev_hash
        assert self.case.updated_at == ctx.now
        assert stored_allowed_actions_match(self.machine, ctx), step
        self.events.append(event)
        return event

    def run(self, steps: list[Step]) -> Walk:
        for step in steps:
            self.take(step)
        return self

    def edges(self) -> set[tuple[str | None, str, str]]:
        """The declared actions taken (a dispatch is routing's, not an action of the kind)."""
        return {(event.from_state, event.action, event.to_state) for event in self.events[1:] if event.action != SystemAction.DISPATCH}


def declared_edges(kind: str) -> set[tuple[str, str, str]]:
    """Every (source, action, destination) the kind declares; a self action ends where it began."""
    return {(source, action.name, dest or source) for action in SPECS[kind].actions for source in action.source for dest in action.destinations()}
