"""The Temporal Schedules the worker keeps (reviews, assessments, the quality sample): each starts a
short workflow at a moment of the department's calendar, in its time zone."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributeKey

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def scheduled_moment() -> datetime:
    """When the schedule meant this run to start (inside a workflow): a run caught up after an outage
    still works on the period it was meant for. A run started by hand has no such time: now."""
    return workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()


async def keep_schedule(client: Client, schedule_id: str, run: Any, input: Any, workflow_id: str, cron: str, task_queue: str, timezone: str) -> None:
    """Create the schedule unless it exists (every worker calls this).

    One that starts its workflow on another task queue (the deployment moved), or fires in another
    time zone (one made before schedules followed the department's zone, or the zone changed), is
    replaced by this one; whether an operator paused it is kept."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(run, input, id=workflow_id, task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
    )
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(schedule_id).update(partial(_moved_to, schedule))


def _moved_to(wanted: Schedule, input: ScheduleUpdateInput) -> ScheduleUpdate | None:
    existing = input.description.schedule
    if (
        isinstance(existing.action, ScheduleActionStartWorkflow)
        and isinstance(wanted.action, ScheduleActionStartWorkflow)
        and existing.action.task_queue == wanted.action.task_queue
        and (existing.spec.time_zone_name or "UTC") == wanted.spec.time_zone_name
    ):
        return None
    return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=existing.state))
