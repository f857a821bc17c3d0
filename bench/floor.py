"""The floor: a minimal workflow on the same dev server, driven by the same kind of load.

`python -m bench.floor ADDRESS TASK_QUEUE` runs its worker in a process of its own, as Casework's
worker runs in its own: the load generator then measures the Temporal server and one SDK worker,
nothing else.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.stats import Run, closed_loop


@activity.defn(name="bench_floor_record")
async def record(count: int) -> None:
    """Stands for a projection: a local activity that does nothing."""


@workflow.defn(name="BenchFloor")
class FloorWorkflow:
    """Does nothing but count its updates: the cheapest durable update there is."""

    def __init__(self) -> None:
        self._count = 0
        self._done = False

    @workflow.run
    async def run(self, _: str) -> int:
        await workflow.wait_condition(lambda: self._done)
        return self._count

    @workflow.update
    async def bump(self, _: str) -> int:
        self._count += 1
        return self._count

    @workflow.update
    async def bump_and_record(self, _: str) -> int:
        """An update acknowledged only after a local activity ran in its workflow task: the shape of every
        Casework change (its projection), and so the floor of that design."""
        self._count += 1
        await workflow.execute_local_activity(record, self._count, start_to_close_timeout=timedelta(seconds=30))
        return self._count

    @workflow.signal
    def finish(self) -> None:
        self._done = True


class Floor:
    """Raw Temporal figures from the bench process, against the floor worker's task queue."""

    def __init__(self, client: Client, task_queue: str):
        self.client = client
        self.task_queue = task_queue
        # Plain starts go to a queue nobody polls: their first workflow task would otherwise run
        # on the floor worker after the phase ended and spill into the next measurement.
        self.unpolled_queue = f"{task_queue}-unpolled"

    def _new_id(self) -> str:
        return f"floor-{uuid.uuid4().hex}"

    async def starts(self, concurrency: int, seconds: float, warmup: float) -> Run:
        """Plain workflow starts: accepted and persisted by the server; no worker involved."""

        async def start(_: int) -> None:
            await self.client.start_workflow(FloorWorkflow.run, "x", id=self._new_id(), task_queue=self.unpolled_queue)

        return await closed_loop(concurrency, seconds, start, warmup)

    async def update_with_start(self, concurrency: int, seconds: float, warmup: float) -> Run:
        """Start a workflow and complete its first update in one call: what opening a case is, minimal."""

        async def open_one(_: int) -> None:
            operation = WithStartWorkflowOperation(
                FloorWorkflow.run, "x", id=self._new_id(), task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )  # fmt: skip
            await self.client.execute_update_with_start_workflow(FloorWorkflow.bump, "x", start_workflow_operation=operation)

        return await closed_loop(concurrency, seconds, open_one, warmup)

    async def updates(self, concurrency: int, seconds: float, warmup: float) -> Run:
        """Updates on running workflows, one workflow per client (a case is one workflow too)."""
        return await self._updates(FloorWorkflow.bump, concurrency, seconds, warmup)

    async def updates_with_local_activity(self, concurrency: int, seconds: float, warmup: float) -> Run:
        """The same, each update awaiting a no-op local activity before it returns, as Casework's await their projection."""
        return await self._updates(FloorWorkflow.bump_and_record, concurrency, seconds, warmup)

    async def _updates(self, update, concurrency: int, seconds: float, warmup: float) -> Run:
        handles = []
        for _ in range(concurrency):
            handles.append(await self.client.start_workflow(FloorWorkflow.run, "x", id=self._new_id(), task_queue=self.task_queue))
        await asyncio.gather(*(handle.execute_update(update, "x") for handle in handles))

        async def bump(index: int) -> None:
            await handles[index].execute_update(update, "x")

        try:
            return await closed_loop(concurrency, seconds, bump, warmup)
        finally:
            await asyncio.gather(*(handle.signal(FloorWorkflow.finish) for handle in handles), return_exceptions=True)


async def _serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    # Unsandboxed, as Casework's worker runs: the floor is the cheapest durable update there is.
    async with Worker(client, task_queue=task_queue, workflows=[FloorWorkflow], activities=[record], workflow_runner=UnsandboxedWorkflowRunner()):
        print("floor worker ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
