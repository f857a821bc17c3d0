"""The projection alone: `ReadModel.project` of one case's events, in this process, one at a time.

What the projection activity costs a transition in the read model, without Temporal around it: a
complaint opened by the real state machine, walked to remediate, then round its unsatisfied
remediate/follow_up loop, each event projected as the activity projects it (fenced, as a local
activity writes since "project-locally").
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.http_load import LOOP, TO_REMEDIATE, complaint
from bench.stats import percentiles
from service.read_model import ReadModel, create_engine
from states import clocks
from states.case import Actor, format_time, parse_time
from states.opening import Report, open_case
from states.sla_policy import DEFAULT_POLICY_DATA, parse_policy
from states.spec import Context
from workflows.activities import projection_fence

AGENT = Actor("agent-07", "agent")


async def measure(model: ReadModel, events: int, case_id: str = "bench-projection") -> dict:
    policy = parse_policy(DEFAULT_POLICY_DATA)
    moment = datetime.now(UTC)

    def context() -> Context:
        nonlocal moment
        moment += timedelta(seconds=1)
        return Context(format_time(moment))

    machine, event = open_case(case_id, Report(**complaint(1)), AGENT, context())
    clocks.start_cycle(machine.case, policy, event.at)
    await model.project(machine.case, event, _fence(event))
    for step in TO_REMEDIATE:
        await _project_next(model, machine, step, context(), policy)
    timings, cpu = [], time.process_time()
    for index in range(events):
        began = time.perf_counter()
        await _project_next(model, machine, LOOP[index % len(LOOP)], context(), policy)
        timings.append(time.perf_counter() - began)
    return {
        **percentiles(timings),
        "mean_ms": round(1000 * sum(timings) / events, 2),
        # This process's CPU per event: the whole cost on SQLite (its writes run in this process), the client's share on PostgreSQL.
        "process_cpu_ms": round(1000 * (time.process_time() - cpu) / events, 2),
        "events": events,
    }


async def measure_on(database_url: str, sqlite_synchronous: str, events: int, case_id: str) -> dict:
    """The same on a read model of its own, opened with another SQLite synchronous setting."""
    model = ReadModel(create_engine(database_url, sqlite_synchronous=sqlite_synchronous))
    try:
        return await measure(model, events, case_id)
    finally:
        await model.close()


async def _project_next(model: ReadModel, machine, step: dict, ctx: Context, policy) -> None:
    """The state machine's step and its projection, as the workflow and its activity take them."""
    event = machine.take(step["action"], AGENT, dict(step.get("data", {})), step.get("note"), ctx)
    clocks.after_event(machine.case, event, policy)
    await model.project(machine.case, event, _fence(event))


def _fence(event) -> str:
    """A later workflow task's, as each event comes: its history longer, its moment the event's."""
    return projection_fence(RUN_STARTED, 3 * event.seq, parse_time(event.at))


RUN_STARTED = datetime(2026, 1, 1, tzinfo=UTC)
