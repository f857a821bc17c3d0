"""The reconciliation sweep, by a Temporal Schedule the worker keeps: every few minutes a short
`ReconcileSweep` workflow asks one activity to reconcile the cases projected lately (service/reconcile.py).

A projection runs inside the workflow task that takes its event (a local activity); a task can write
and then fail. Its retry, or the case's next change, writes over it with a higher fence; the sweep heals
what no later write reaches (a retry that took no event, on a case that then stays still), so the read
model shows an event or a phase the workflow does not have for at most about SWEEP_EVERY.
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

SWEEP_EVERY = timedelta(minutes=5)
CRON = "*/5 * * * *"
# Twice the period: a run that was skipped or late still covers the cases of the one before.
LOOK_BACK = 2 * SWEEP_EVERY
SCHEDULE_ID = "casework-reconcile-sweep"


@dataclass
class SweepInput:
    pass


@dataclass
class ReconcileRecentInput:
    # The cases with events projected since this moment (RFC 3339) are checked.
    since: str


class RecentReconciler(Protocol):
    async def reconcile_recent(self, since: str) -> list[str]: ...


class SweepActivities:
    def __init__(self, reconciler: RecentReconciler):
        self._reconciler = reconciler

    @activity.defn(name="reconcile_recent")
    async def reconcile_recent(self, input: ReconcileRecentInput) -> list[str]:
        """What was repaired, one line a case."""
        return await self._reconciler.reconcile_recent(input.since)


@workflow.defn(name="ReconcileSweep")
class ReconcileSweepWorkflow:
    @workflow.run
    async def run(self, input: SweepInput) -> list[str]:
        return await workflow.execute_activity(
            "reconcile_recent",
            ReconcileRecentInput((scheduled_moment() - LOOK_BACK).isoformat()),
            result_type=list[str],
            start_to_close_timeout=SWEEP_EVERY,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=3),
        )


async def ensure_sweep_schedule(client: Client, task_queue: str, timezone: str) -> None:
    """The sweep's schedule, created or kept as workflows/schedules.py says."""
    await keep_schedule(client, SCHEDULE_ID, ReconcileSweepWorkflow.run, SweepInput(), "reconcile-sweep", CRON, task_queue, timezone)
