"""The reconciliation sweep's check over the cases the bench changed (service/reconcile.py `in_doubt`):
by the end of each history, as shipped, against a query to every workflow, as before; the same sample,
on the running stack, each process's CPU per case checked. The scheduled sweep is paused meanwhile,
and the measurement waits for the worker and Temporal to be idle after the phases before it."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from bench.stack import Stack, cpu_seconds
from service.read_model import ReadModel, create_engine
from service.reconcile import Reconciler
from service.settings import TemporalConnection
from service.temporal import connect
from workflows.sweeps import SCHEDULE_ID

# Enough cases for steady per-case figures; the query path runs about a hundred a second.
SAMPLE = 3000
# Idle: under a tenth of a core over a second; waited for at most a minute.
IDLE_SHARE = 0.1
IDLE_WAIT_SECONDS = 60


class AskingEveryWorkflow(Reconciler):
    """The check before the sweep read the history's end: a query to every workflow."""

    async def _written_by_last_projection(self, case_id: str, fence: str | None) -> bool:
        return False


async def measure(stack: Stack, database_url: str, namespace: str, since: datetime, progress) -> dict:
    client = await connect(TemporalConnection(stack.temporal.address, namespace))
    read_model = ReadModel(create_engine(database_url))
    schedule = client.get_schedule_handle(SCHEDULE_ID)
    await schedule.pause(note="the bench measures the sweep's check")
    try:
        idle = await _idle(stack, ("worker", "temporal"))
        candidates = await Reconciler(client, read_model).fences_projected_since(since)
        sample = candidates[:SAMPLE]
        figures: dict = {"cases_projected_in_the_run": len(candidates), "cases_checked": len(sample), "idle_before": idle}
        for name, reconciler in (("history_end", Reconciler(client, read_model)), ("query_each", AskingEveryWorkflow(client, read_model))):
            progress(f"sweep: checking {len(sample)} cases, {name}")
            pids = stack.pids()
            before = {role: cpu_seconds(pid) for role, pid in pids.items()}
            began = time.perf_counter()
            in_doubt = await reconciler.in_doubt(sample)
            seconds = time.perf_counter() - began
            figures[name] = {
                "seconds": round(seconds, 2),
                "cases_per_second": round(len(sample) / seconds, 1) if seconds else None,
                "in_doubt": len(in_doubt),
                "cpu_ms_per_case": {role: round(1000 * (cpu_seconds(pid) - before[role]) / max(len(sample), 1), 2) for role, pid in pids.items()},
            }
        return figures
    finally:
        await schedule.unpause()
        await read_model.close()


async def _idle(stack: Stack, roles: tuple[str, ...]) -> bool:
    """Whether the processes went idle (the cases opened before, the scheduled sweep) within the wait."""
    pids = {role: pid for role, pid in stack.pids().items() if role in roles}
    deadline = time.monotonic() + IDLE_WAIT_SECONDS
    while time.monotonic() < deadline:
        before = {role: cpu_seconds(pid) for role, pid in pids.items()}
        await asyncio.sleep(1)
        if all(cpu_seconds(pid) - before[role] < IDLE_SHARE for role, pid in pids.items()):
            return True
    return False
