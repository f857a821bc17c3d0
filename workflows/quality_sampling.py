"""The weekly quality sample (质检抽样), made by a Temporal Schedule the worker creates at start.

The schedule starts a short workflow on Monday morning in the department's time zone; its activity
samples the cases closed in the week before the scheduled time (so a run caught up after an outage
samples the week it was meant for) and starts a check workflow for each."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

from temporalio import activity, workflow
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
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.reviews import SCHEDULED_START

SCHEDULE_ID = "casework-quality-sample-weekly"
# Monday 02:00 in the department's time zone: after the weekly review, the week before complete.
CRON = "0 2 * * 1"


@dataclass
class QualitySamplingInput:
    pass


@dataclass
class SampleWeekInput:
    # The moment the schedule fired (RFC 3339): the sample covers the week before it.
    by: str


class WeeklySampler(Protocol):
    async def sample_week_before(self, by: str) -> int: ...


class QualitySamplingActivities:
    def __init__(self, sampler: WeeklySampler):
        self._sampler = sampler

    @activity.defn(name="sample_quality_checks")
    async def sample_week(self, input: SampleWeekInput) -> int:
        return await self._sampler.sample_week_before(input.by)


@workflow.defn(name="QualitySampling")
class QualitySamplingWorkflow:
    @workflow.run
    async def run(self, input: QualitySamplingInput) -> int:
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        return await workflow.execute_activity(
            "sample_quality_checks",
            SampleWeekInput(scheduled.isoformat()),
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


async def ensure_quality_schedule(client: Client, task_queue: str, timezone: str) -> None:
    """Create the weekly sampling schedule unless it exists (every worker calls this); one on another
    task queue or in another time zone is replaced, keeping whether an operator paused it."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(QualitySamplingWorkflow.run, QualitySamplingInput(), id="quality-sample-weekly", task_queue=task_queue),
        spec=ScheduleSpec(cron_expressions=[CRON], time_zone_name=timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
    )
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        await client.get_schedule_handle(SCHEDULE_ID).update(partial(_moved_to, schedule))


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
