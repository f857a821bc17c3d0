"""Monthly, quarterly and yearly assessments (考核), made by Temporal Schedules the worker creates at start.

Each schedule starts a short `Assessment` workflow at the start of its period in the department's
time zone; one activity makes the assessments of the whole period before the scheduled time for
every enabled agent (a run caught up after an outage still assesses the period it was meant for).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.schedules import keep_schedule, scheduled_moment

# Minute hour day-of-month month day-of-week, in the department's time zone: half an hour after the
# period ends, so the monthly review (at 01:00, workflows/reviews.py) finds the month's assessments.
CRON = {"monthly": "30 0 1 * *", "quarterly": "30 0 1 1,4,7,10 *", "yearly": "30 0 1 1 *"}


@dataclass
class AssessmentInput:
    cadence: str


@dataclass
class MakeAssessmentsInput:
    cadence: str
    # The moment the period ends by (RFC 3339); the assessments cover the whole period before it.
    by: str


class AssessmentMaker(Protocol):
    async def make_scheduled(self, cadence: str, by: str) -> int: ...


class AssessmentActivities:
    def __init__(self, maker: AssessmentMaker):
        self._maker = maker

    @activity.defn(name="make_assessments")
    async def make_assessments(self, input: MakeAssessmentsInput) -> int:
        return await self._maker.make_scheduled(input.cadence, input.by)


@workflow.defn(name="Assessment")
class AssessmentWorkflow:
    @workflow.run
    async def run(self, input: AssessmentInput) -> int:
        return await workflow.execute_activity(
            "make_assessments",
            MakeAssessmentsInput(input.cadence, scheduled_moment().isoformat()),
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


def schedule_id(cadence: str) -> str:
    return f"casework-assessment-{cadence}"


async def ensure_assessment_schedules(client: Client, task_queue: str, timezone: str) -> None:
    """The three assessment schedules, created or kept as workflows/schedules.py says."""
    for cadence, cron in CRON.items():
        run, input = AssessmentWorkflow.run, AssessmentInput(cadence)
        await keep_schedule(client, schedule_id(cadence), run, input, f"assessment-{cadence}", cron, task_queue, timezone)
