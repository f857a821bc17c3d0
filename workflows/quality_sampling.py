"""The weekly quality sample (质检抽样), made by a Temporal Schedule the worker creates at start.

The schedule starts a short workflow on Monday morning in the department's time zone; its activity
samples the cases closed in the week before the scheduled time (so a run caught up after an outage
samples the week it was meant for) and starts a check workflow for each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.schedules import keep_schedule, scheduled_moment

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
        return await workflow.execute_activity(
            "sample_quality_checks",
            SampleWeekInput(scheduled_moment().isoformat()),
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


async def ensure_quality_schedule(client: Client, task_queue: str, timezone: str) -> None:
    """The weekly sampling schedule, created or kept as workflows/schedules.py says."""
    run, input = QualitySamplingWorkflow.run, QualitySamplingInput()
    await keep_schedule(client, SCHEDULE_ID, run, input, "quality-sample-weekly", CRON, task_queue, timezone)
