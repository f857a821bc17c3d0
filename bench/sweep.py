"""The reconciliation sweep's check over the cases the bench changed (service/reconcile.py `in_doubt`):
by the end of each history, as shipped, against a query to every workflow, as before; the same sample,
on the running stack, each process's CPU per case checked."""

from __future__ import annotations

import time
from datetime import datetime

from bench.stack import Stack, cpu_seconds
from service.read_model import ReadModel, create_engine
from service.reconcile import Reconciler
from service.settings import TemporalConnection
from service.temporal import connect

# Enough cases for steady per-case figures; the query path runs about a hundred a second.
SAMPLE = 3000


class AskingEveryWorkflow(Reconciler):
    """The check before the sweep read the history's end: a query to every workflow."""

    async def _written_by_last_projection(self, case_id: str, fence: str | None) -> bool:
        return False


async def measure(stack: Stack, database_url: str, namespace: str, since: datetime, progress) -> dict:
    client = await connect(TemporalConnection(stack.temporal.address, namespace))
    read_model = ReadModel(create_engine(database_url))
    try:
        candidates = await Reconciler(client, read_model).fences_projected_since(since)
        sample = candidates[:SAMPLE]
        figures: dict = {"cases_projected_in_the_run": len(candidates), "cases_checked": len(sample)}
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
        await read_model.close()
