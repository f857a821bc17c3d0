"""A change written to the read model by its update's validator, before Temporal accepts it (case
workflow v11), in place of a local activity after: no activity task, no second activation, no marker.

The validator takes the action on a copy of the case with the rules the handler applies (the same input,
the same `workflow.now()`, the same state: the SDK runs the handler right after its validator), and this
worker's interceptor writes that copy with the workflow task's fence. A write the read model refuses, or
cannot make in time, rejects the update: Temporal records nothing and the case is as it was. Accepted,
the handler adopts the copy. Replays run no validator, so they write nothing, and take the action again:
the same pure rules give the same case. A task that wrote and then failed is handled as a local
activity's write is (the fence; service/last_projection.py, the reconciliation sweep).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import HandleUpdateInput, Interceptor, WorkflowInboundInterceptor, WorkflowInterceptorClassInput

with workflow.unsafe.imports_passed_through():
    from states import clocks
    from states.case import CaseState, Event, copy_case
    from states.machine import CaseMachine
    from states.sla_policy import ServiceLevelPolicy
    from states.spec import Context
    from workflows.activities import PROJECTION_REFUSED, ProjectionStore, RowRefused, StoreBusy, projection_fence
    from workflows.inputs import ActInput

# The type of the error an update is rejected with when the read model could not take its change in
# time (locked, unreachable): nothing was recorded, so the caller may send it again as it was.
READ_MODEL_BUSY = "ReadModelBusy"


@dataclass
class Ahead:
    """An update's change as its validator took it, to be written before the update is accepted."""

    update_id: str
    base_version: int
    case: CaseState
    event: Event
    fence: str
    written: bool = False


def take_ahead(machine: CaseMachine, input: ActInput, ctx: Context, policy: ServiceLevelPolicy) -> Ahead:
    """The action taken on a copy of the case, clocks and all, as the handler would take it."""
    copy = CaseMachine(copy_case(machine.case))
    event = copy.take(input.action, input.actor, dict(input.data or {}), input.note, ctx, input.expected_version)
    clocks.after_event(copy.case, event, policy)
    info = workflow.info()
    fence = projection_fence(info.workflow_start_time, info.get_current_history_length(), workflow.now())
    update = workflow.current_update_info()
    assert update is not None, "taken ahead by an update's validator"
    return Ahead(update.id, machine.case.version, copy.case, event, fence)


def adopt_or_take(machine: CaseMachine, ahead: Ahead | None, input: ActInput, ctx: Context, policy: ServiceLevelPolicy) -> Event:
    """In the update's handler: the change as its validator took it and the worker wrote it, adopted;
    in a replay (no validator runs), taken again by the same rules, and written by nobody."""
    update = workflow.current_update_info()
    if ahead is not None and update is not None and ahead.update_id == update.id and ahead.base_version == machine.case.version:
        if not ahead.written:
            raise RuntimeError("this worker wrote no change ahead: build it with workflows.worker.build_worker")
        machine.restore(ahead.case)
        return ahead.event
    if not workflow.unsafe.is_replaying():
        raise RuntimeError(f"update {update.id if update else '?'} was not taken by its validator")
    event = machine.take(input.action, input.actor, dict(input.data or {}), input.note, ctx, input.expected_version)
    clocks.after_event(machine.case, event, policy)
    return event


class WriteAhead(Interceptor):
    """The worker's half: after a validator took a change ahead, write it (see the module's docstring)."""

    def __init__(self, store: ProjectionStore):
        # The worker's event loop, for a store that writes on it (PostgreSQL's driver is asynchronous).
        self._inbound = type("WritingAhead", (_WritingAhead,), {"store": store, "loop": asyncio.get_running_loop()})

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return self._inbound


class _WritingAhead(WorkflowInboundInterceptor):
    store: ProjectionStore
    loop: asyncio.AbstractEventLoop

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        super().handle_update_validator(input)
        taken = getattr(workflow.instance(), "taken_ahead", None)
        ahead = taken(input.id) if taken is not None else None
        if ahead is None:
            return
        try:
            # I/O, outside the workflow's determinism: where the workflows run in the sandbox (the tests),
            # what the store imports or calls on its way is none of the sandbox's business.
            with workflow.unsafe.sandbox_unrestricted(), workflow.unsafe.imports_passed_through():
                self.store.project_ahead(ahead.case, ahead.event, ahead.fence, self.loop)
        except RowRefused as refused:
            raise ApplicationError(
                f"the read model cannot store event {ahead.event.seq} of case {ahead.case.id}: {refused}; the case is as it was",
                {"case_id": ahead.case.id, "seq": ahead.event.seq},
                type=PROJECTION_REFUSED,
                non_retryable=True,
            ) from None
        except StoreBusy as busy:
            raise ApplicationError(f"the read model did not take the change in time ({busy}); nothing was changed", type=READ_MODEL_BUSY) from None
        ahead.written = True
