"""Weekly and monthly reviews, made by Temporal Schedules that the worker creates at start.

The schedule starts a short `Review` workflow; it asks one activity to compute and store the
review of the whole week or month that ended when the schedule fired (its scheduled time, so a
run caught up after an outage still reviews the period it was meant for).
"""

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
from temporalio.common import RetryPolicy, SearchAttributeKey

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
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
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        return await workflow.execute_activity(
            "make_review",
            MakeReviewInput(input.cadence, scheduled.isoformat()),
            result_type=str,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


def schedule_id(cadence: str) -> str:
    return f"casework-review-{cadence}"


async def ensure_schedules(client: Client, task_queue: str, timezone: str) -> None:
    """Create the weekly and monthly review schedules unless they exist (every worker calls this).

    A schedule that starts its reviews on another task queue (the deployment moved), or fires in
    another time zone (one made before schedules followed the department's zone, or the zone
    changed), is replaced by this one; whether an operator paused it is kept."""
    for cadence, cron in CRON.items():
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(ReviewWorkflow.run, ReviewInput(cadence), id=f"review-{cadence}", task_queue=task_queue),
            spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=timezone),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
        )
        try:
            await client.create_schedule(schedule_id(cadence), schedule)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id(cadence)).update(partial(moved_to, schedule))


def moved_to(wanted: Schedule, input: ScheduleUpdateInput) -> ScheduleUpdate | None:
    existing = input.description.schedule
    if (
        isinstance(existing.action, ScheduleActionStartWorkflow)
        and isinstance(wanted.action, ScheduleActionStartWorkflow)
        and existing.action.task_queue == wanted.action.task_queue
        and (existing.spec.time_zone_name or "UTC") == wanted.spec.time_zone_name
    ):
        return None
    return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=existing.state))
