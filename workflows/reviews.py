"""Weekly and monthly reviews, made by Temporal Schedules that the worker creates at start.

The schedule starts a short `Review` workflow; it asks one activity to compute and store the
review of the whole week or month that ended when the schedule fired (its scheduled time, so a
run caught up after an outage still reviews the period it was meant for).
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

# Minute hour day-of-month month day-of-week, in the department's time zone: an hour after the period ends there.
CRON = {"weekly": "0 1 * * 1", "monthly": "0 1 1 * *"}


@dataclass
class ReviewInput:
    cadence: str


@dataclass
class MakeReviewInput:
    cadence: str
    # The moment the period ends by (RFC 3339); the review covers the whole week or month before it.
    by: str


class ReviewMaker(Protocol):
    async def make_scheduled(self, cadence: str, by: str) -> str: ...


class ReviewActivities:
    def __init__(self, maker: ReviewMaker):
        self._maker = maker

    @activity.defn(name="make_review")
    async def make_review(self, input: MakeReviewInput) -> str:
        return await self._maker.make_scheduled(input.cadence, input.by)


@workflow.defn(name="Review")
class ReviewWorkflow:
    @workflow.run
    async def run(self, input: ReviewInput) -> str:
        return await workflow.execute_activity(
            "make_review",
            MakeReviewInput(input.cadence, scheduled_moment().isoformat()),
            result_type=str,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


def schedule_id(cadence: str) -> str:
    return f"casework-review-{cadence}"


async def ensure_schedules(client: Client, task_queue: str, timezone: str) -> None:
    """The weekly and monthly review schedules, created or kept as workflows/schedules.py says."""
    for cadence, cron in CRON.items():
        await keep_schedule(client, schedule_id(cadence), ReviewWorkflow.run, ReviewInput(cadence), f"review-{cadence}", cron, task_queue, timezone)
