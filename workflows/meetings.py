"""The regular meetings (例会) made ahead of time, by a daily Temporal Schedule the worker keeps.

Every morning in the department's time zone a short `ScheduleMeetings` workflow asks one activity to
make sure the next weekly meetings and the next monthly one exist (service/meetings.py), so a
supervisor always sees next week's meeting with its host and agenda. Meetings have deterministic case
ids: a run caught up after an outage, or run twice, creates each meeting once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from temporalio import activity, workflow
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.schedules import keep_schedule, scheduled_moment

# Minute hour day-of-month month day-of-week, in the department's time zone: early every morning.
CRON = "0 7 * * *"
SCHEDULE_ID = "casework-meetings"


@dataclass
class ScheduleMeetingsInput:
    pass


@dataclass
class MakeMeetingsInput:
    # The moment to look ahead from (RFC 3339): the schedule's time, or now when started by hand.
    by: str


class MeetingMaker(Protocol):
    async def make_upcoming(self, by: str) -> list[str]: ...


class MeetingActivities:
    def __init__(self, maker: MeetingMaker):
        self._maker = maker

    @activity.defn(name="make_meetings")
    async def make_meetings(self, input: MakeMeetingsInput) -> list[str]:
        return await self._maker.make_upcoming(input.by)


@workflow.defn(name="ScheduleMeetings")
class ScheduleMeetingsWorkflow:
    @workflow.run
    async def run(self, input: ScheduleMeetingsInput) -> list[str]:
        return await workflow.execute_activity(
            "make_meetings",
            MakeMeetingsInput(scheduled_moment().isoformat()),
            result_type=list[str],
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )


async def ensure_meeting_schedule(client: Client, task_queue: str, timezone: str, cron: str = CRON) -> None:
    """The daily meetings schedule, created or kept as workflows/schedules.py says, and run once now:
    after an install or a restart the coming meetings exist within seconds, not at the next 07:00.
    Meetings have deterministic ids, so the extra run makes nothing twice (a paused schedule stays idle)."""
    await keep_schedule(client, SCHEDULE_ID, ScheduleMeetingsWorkflow.run, ScheduleMeetingsInput(), "schedule-meetings", cron, task_queue, timezone)
    handle = client.get_schedule_handle(SCHEDULE_ID)
    if not (await handle.describe()).schedule.state.paused:
        # Allow all: a run left running by a worker that moved away (SKIP would drop this one) must not
        # keep the coming meetings from being made; making them twice makes nothing twice.
        await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
