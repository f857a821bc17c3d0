"""What the tests of every layer share: the clock, the actors, every kind's walk, the one polling
loop. It imports nothing of Temporal, SQLAlchemy or HTTP, so the pure states/ tests can use it too;
each layer drives a walk in its own way (tests/states/_support.py: the machine, tests/workflows/
walking.py: the service, tests/conftest.py `Api.take`: HTTP)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from service.read_model import ReadModel
from service.tables import cases
from states.case import Actor, CaseState, format_time, parse_time
from states.machine import spec_for
from states.sla_policy import DEFAULT_POLICY_DATA
from states.spec import Context
from workflows.inputs import Dispatch

# --- the clock ------------------------------------------------------------------------------------

T0 = "2026-11-23T08:00:00.000000Z"
NOW = Context(T0)
DUE = "2030-01-01T09:00:00Z"  # an action item's deadline far in the future


def moment(seconds: float = 0, *, minutes: float = 0) -> datetime:
    """T0 plus the time given."""
    return parse_time(T0) + timedelta(seconds=seconds, minutes=minutes)


def at(seconds: float = 0, *, minutes: float = 0) -> str:
    """T0 plus the time given, as the machine formats times."""
    return format_time(moment(seconds, minutes=minutes))


# --- the actors: the users tests/conftest.py gives tokens to --------------------------------------

AGENT = Actor("ann", "agent")
SUPERVISOR = Actor("sam", "supervisor")
AUDITOR = Actor("ada", "auditor")
SYSTEM = Actor("system")
ACTORS = {"agent": AGENT, "supervisor": SUPERVISOR, "auditor": AUDITOR}


# --- every kind's full walk -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    actor: Actor
    action: str
    data: dict[str, Any] | None = None
    to: str | None = None  # the phase after the step; None: the phase stays

    def body(self) -> dict[str, Any]:
        """The step as the body of `POST /cases/{id}/transitions`."""
        return {"action": self.action, **({"data": self.data} if self.data else {})}


def phases(steps: list[Step], start: str = "report") -> list[str]:
    """The phase after each step."""
    after = []
    for step in steps:
        start = step.to or start
        after.append(start)
    return after


COMPLAINT_WALK = [
    Step(AGENT, "acknowledge"),
    Step(AGENT, "comment"),
    Step(SUPERVISOR, "assign", {"owner": AGENT.name}),  # the agent who walks on owns it (the ownership rule)
    Step(AGENT, "start_analysis", to="analyse"),
    Step(AGENT, "record_findings", {"findings": "the parcel was left at the wrong station"}),
    Step(AGENT, "propose_remedy", {"solution": "redeliver and refund shipping"}, to="remediate"),
    Step(AGENT, "complete_remedy", {"resolution": "redelivered"}, to="follow_up"),
    Step(AGENT, "record_satisfaction", {"satisfied": False, "score": 2}, to="remediate"),
    Step(AGENT, "complete_remedy", {"resolution": "refunded shipping as well"}, to="follow_up"),
    Step(AGENT, "record_satisfaction", {"satisfied": True, "score": 5}, to="closed"),
    Step(AGENT, "reopen", {"reason": "the customer called back"}, to="analyse"),
    Step(SUPERVISOR, "dismiss", {"reason": "the parcel was delivered as agreed"}, to="closed"),
]

FEEDBACK_WALK = [
    Step(AGENT, "classify", {"category": "logistics"}, to="analyse"),
    Step(AGENT, "route", {"department": "warehouse"}, to="remediate"),
    Step(AGENT, "record_result", {"result": "packing changed"}, to="follow_up"),
    Step(AGENT, "record_satisfaction", {"satisfied": False}, to="remediate"),
    Step(AGENT, "record_result", {"result": "packing changed again"}, to="follow_up"),
    Step(AGENT, "record_satisfaction", {"satisfied": True, "score": 4}, to="closed"),
]

INCIDENT_MINUTES = {
    "held_at": "2026-11-22T18:00:00+08:00",
    "place": "会议室 A",
    "participants": ["ann", "tech"],
    "host": "sam",
    "agenda": "订单服务超时",
    "discussion": "超时的原因",
    "decisions": "加熔断",
    "tasks": "tech：熔断",
}
INCIDENT_WALK = [
    Step(SUPERVISOR, "start_analysis", to="analyse"),
    Step(AGENT, "record_cause", {"category": "system", "description": "order service timed out"}),
    Step(AGENT, "add_action_item", {"title": "add a circuit breaker", "owner": "tech", "due": DUE}),
    Step(SUPERVISOR, "plan_measures", to="remediate"),
    Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "deployed"}),
    Step(AGENT, "measures_done", to="follow_up"),
    Step(SUPERVISOR, "publish_minutes", INCIDENT_MINUTES),
    Step(SUPERVISOR, "close", {"effect": "no time-outs since", "lessons_learned": "load-test"}, to="closed"),
]

IMPROVEMENT_WALK = [
    Step(SUPERVISOR, "start_analysis", to="analyse"),
    Step(AGENT, "record_cause", {"category": "training", "description": "new agents lack product knowledge"}),
    Step(SUPERVISOR, "plan_measures", to="remediate"),
    Step(AGENT, "add_action_item", {"title": "weekly product training", "owner": "sam", "due": DUE}),
    Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "four sessions held"}),
    Step(AGENT, "evaluate", to="follow_up"),
    Step(SUPERVISOR, "record_effect", {"effective": False, "after_value": 0.71}, to="analyse"),
    Step(SUPERVISOR, "plan_measures", to="remediate"),
    Step(AGENT, "evaluate", to="follow_up"),
    Step(SUPERVISOR, "record_effect", {"effective": True, "after_value": 0.93}, to="closed"),
]

MINUTES = {
    "held_at": "2026-11-27T07:00:00Z",
    "place": "3楼会议室",
    "participants": ["ann", "sam"],
    "host": "sam",
    "agenda": "本周数据；待办跟进",
    "discussion": "首次响应变慢",
    "decisions": "午间加一名客服",
    "tasks": "ann 调整排班",
}

MEETING_WALK = [
    Step(SUPERVISOR, "set_attendees", {"host": "sam", "recorder": "ann", "participants": ["ann", "sam"]}),
    Step(AGENT, "record_attendance", {"attended": ["ann", "sam"], "absent": []}, to="analyse"),
    Step(AGENT, "add_action_item", {"title": "调整午间排班", "owner": "ann", "due": DUE}),
    Step(AGENT, "assign_tasks", to="remediate"),
    Step(AGENT, "publish_minutes", MINUTES, to="follow_up"),
    Step(AGENT, "complete_action_item", {"item_id": "item-1", "outcome": "排班已调整"}),
    Step(SUPERVISOR, "close", to="closed"),
]

WALKS = {
    "complaint": COMPLAINT_WALK,
    "feedback": FEEDBACK_WALK,
    "incident": INCIDENT_WALK,
    "improvement_plan": IMPROVEMENT_WALK,
    "meeting": MEETING_WALK,
}
# Routing's decision for every routed kind, with a team policy of its own: where the workflow's handling
# of a decision is the subject, not how routing makes one (tests/api/test_routing_through_the_api.py).
TEAM_POLICY = {**DEFAULT_POLICY_DATA, "warn_at": 0.6}
ROUTED = Dispatch("一线", "ann", 0, "rule 0 (kind = complaint)", "round_robin", TEAM_POLICY)


class FixedRouter:
    async def dispatch(self, case: CaseState) -> Dispatch | None:
        return ROUTED if spec_for(case.kind).routed else None


OPENERS = {"complaint": AGENT, "feedback": AGENT, "incident": SUPERVISOR, "improvement_plan": SUPERVISOR, "meeting": SUPERVISOR}


# --- waiting for what happens in the background -----------------------------------------------------


async def eventually(check: Callable[[], Any], timeout: float = 15, what: str = "result") -> Any:
    """Calls `check` (plain or async) every 0.1 s until it returns something truthy, and returns that;
    fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        assert time.monotonic() < deadline, f"no {what} within {timeout}s; last: {result!r}"
        await asyncio.sleep(0.1)


async def stored_fence(read_model: ReadModel, case_id: str) -> str | None:
    """The fence of the workflow task that wrote the case's row (None: none, or no row)."""
    async with read_model.engine.connect() as connection:
        return (await connection.execute(select(cases.c.fence).where(cases.c.id == case_id))).scalar()
