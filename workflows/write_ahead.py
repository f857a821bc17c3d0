"""A change written to the read model by its update's validator, before Temporal accepts it (case
workflow v11; since v12 a new case's report too, where the service routed it), in place of a local
activity after: no activity task, no second activation, no marker.

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
    from states.opening import open_case
    from states.sla_policy import ServiceLevelPolicy, parse_policy
    from states.spec import Context
    from workflows.activities import PROJECTION_REFUSED, ProjectionStore, RowRefused, StoreBusy, projection_fence
    from workflows.inputs import ActInput, Dispatch, ReportInput

# The type of the error an update is rejected with when the read model could not take its change in
# time (locked, unreachable): nothing was recorded, so the caller may send it again as it was.
READ_MODEL_BUSY = "ReadModelBusy"


@dataclass
class Ahead:
    """An update's change as its validator took it, to be written before the update is accepted: its
    events (an action's one; a report's, and routing's decision), the case after them, and the
    service-level policy the case runs on after them."""

    update_id: str
    base_version: int
    case: CaseState
    events: list[Event]
    fence: str
    policy: ServiceLevelPolicy
    written: bool = False


def take_ahead(machine: CaseMachine, input: ActInput, ctx: Context, policy: ServiceLevelPolicy) -> Ahead:
    """The action taken on a copy of the case, clocks and all, as the handler would take it."""
    copy = CaseMachine(copy_case(machine.case))
    event = copy.take(input.action, input.actor, dict(input.data or {}), input.note, ctx, input.expected_version)
    clocks.after_event(copy.case, event, policy)
    return _ahead(machine.case.version, copy.case, [event], policy)


def open_ahead(case_id: str, input: ReportInput, ctx: Context, dispatch_ctx: Context, policy: ServiceLevelPolicy) -> Ahead:
    """A routed report opened, as the handler would open it (no case exists yet: nothing to copy)."""
    machine, events, policy = open_routed(case_id, input, ctx, dispatch_ctx, policy)
    return _ahead(0, machine.case, events, policy)


def _ahead(base_version: int, case: CaseState, events: list[Event], policy: ServiceLevelPolicy) -> Ahead:
    info = workflow.info()
    fence = projection_fence(info.workflow_start_time, info.get_current_history_length(), workflow.now())
    update = workflow.current_update_info()
    assert update is not None, "taken ahead by an update's validator"
    return Ahead(update.id, base_version, case, events, fence, policy)


def open_routed(
    case_id: str, input: ReportInput, ctx: Context, dispatch_ctx: Context, policy: ServiceLevelPolicy
) -> tuple[CaseMachine, list[Event], ServiceLevelPolicy]:
    """A case its service routed before reporting it (ReportInput.routed): opened, its clocks started,
    and routing's decision recorded; the policy it runs on after that."""
    machine, report = open_case(case_id, input.report, input.actor, ctx)
    begin_case(machine, report, input, policy)
    if input.dispatch is None:
        return machine, [report], policy
    dispatch, policy = dispatched(machine, input.dispatch, policy, dispatch_ctx)
    clocks.after_event(machine.case, dispatch, policy)
    return machine, [report, dispatch], policy


def begin_case(machine: CaseMachine, report: Event, input: ReportInput, policy: ServiceLevelPolicy) -> None:
    """After the report: the link to the case it came from, and the first cycle of its clocks."""
    if input.source_case_id:
        machine.case.links.append({"case_id": input.source_case_id, "relation": input.source_relation})
    clocks.start_cycle(machine.case, policy, report.at)


def dispatched(machine: CaseMachine, decision: Dispatch, policy: ServiceLevelPolicy, ctx: Context) -> tuple[Event, ServiceLevelPolicy]:
    """Routing's decision taken as the case's `dispatch` event (by the system); the policy the case runs
    on from then on: its team's own, where the team has one."""
    recorded: dict = {"rule": decision.rule, "method": decision.method, "reason": decision.reason}
    if decision.sla_policy is not None:
        policy = parse_policy(decision.sla_policy)
        clocks.adopt_policy(machine.case, policy, ctx.now)
        recorded["team_policy"] = True
    return machine.dispatch(decision.team, decision.owner, recorded, ctx), policy


def adopt_or_take(machine: CaseMachine, ahead: Ahead | None, input: ActInput, ctx: Context, policy: ServiceLevelPolicy) -> Event:
    """In the update's handler: the change as its validator took it and the worker wrote it, adopted;
    in a replay (no validator runs), taken again by the same rules, and written by nobody."""
    update = workflow.current_update_info()
    if ahead is not None and update is not None and ahead.update_id == update.id and ahead.base_version == machine.case.version:
        machine.restore(_written(ahead).case)
        return ahead.events[0]
    if not workflow.unsafe.is_replaying():
        raise RuntimeError(f"update {update.id if update else '?'} was not taken by its validator")
    event = machine.take(input.action, input.actor, dict(input.data or {}), input.note, ctx, input.expected_version)
    clocks.after_event(machine.case, event, policy)
    return event


def adopt_or_open(
    ahead: Ahead | None, case_id: str, input: ReportInput, ctx: Context, dispatch_ctx: Context, policy: ServiceLevelPolicy
) -> tuple[CaseMachine, list[Event], ServiceLevelPolicy]:
    """In a routed report's handler: the case as its validator opened it and the worker wrote it; in a
    replay, opened again by the same rules."""
    update = workflow.current_update_info()
    if ahead is not None and update is not None and ahead.update_id == update.id and ahead.base_version == 0:
        return CaseMachine(_written(ahead).case), ahead.events, ahead.policy
    if not workflow.unsafe.is_replaying():
        raise RuntimeError(f"report {update.id if update else '?'} was not opened by its validator")
    return open_routed(case_id, input, ctx, dispatch_ctx, policy)


def _written(ahead: Ahead) -> Ahead:
    if not ahead.written:
        raise RuntimeError("this worker wrote no change ahead: build it with workflows.worker.build_worker")
    return ahead


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
        first = ahead.events[0]
        try:
            # I/O, outside the workflow's determinism: where the workflows run in the sandbox (the tests),
            # what the store imports or calls on its way is none of the sandbox's business.
            with workflow.unsafe.sandbox_unrestricted(), workflow.unsafe.imports_passed_through():
                self.store.project_ahead(ahead.case, ahead.events, ahead.fence, self.loop)
        except RowRefused as refused:
            raise ApplicationError(
                f"the read model cannot store event {first.seq} of case {ahead.case.id}: {refused}; the case is as it was",
                {"case_id": ahead.case.id, "seq": first.seq},
                type=PROJECTION_REFUSED,
                non_retryable=True,
            ) from None
        except StoreBusy as busy:
            raise ApplicationError(f"the read model did not take the change in time ({busy}); nothing was changed", type=READ_MODEL_BUSY) from None
        ahead.written = True
