"""The projection runs inside the workflow task that takes the event (a local activity): the task can
write the read model and then fail (a worker killed, a task timed out). Its retry takes the event again
(at a new moment) or not at all; either way the read model comes to show what the workflow has."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, OutboundInterceptor, QueryWorkflowInput, WorkflowUpdateFailedError
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from service.audit import Audit
from service.cases import Cases, WorkflowConfig
from service.last_projection import written_by_last_projection
from service.read_model import ReadModel, create_engine
from service.reconcile import Reconciler
from states.case import CaseState, Event
from states.opening import Report
from tests.support import AGENT, stored_fence
from workflows.activities import CaseActivities
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import ActInput
from workflows.messages import MessageActivities, NoOffice
from workflows.sweeps import ReconcileSweepWorkflow, SweepActivities, SweepInput
from workflows.write_ahead import WriteAhead

# Update ids whose workflow task fails once, right after the update's projection returned.
FAIL_AFTER_PROJECTION: set[str] = set()
# Update ids refused when they come again after that failure (the retried task takes no event).
REFUSED_WHEN_RETRIED: set[str] = set()
FAILED: set[str] = set()


class FailAfterProjection(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        if input.id in FAILED and input.id in REFUSED_WHEN_RETRIED:
            raise ApplicationError("refused when retried", type="RefusedWhenRetried")
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        result = await super().handle_update_handler(input)
        if input.id in FAIL_AFTER_PROJECTION and input.id not in FAILED:
            FAILED.add(input.id)
            # Not an ApplicationError: the workflow task fails (as if its worker died), and is retried.
            raise RuntimeError("the workflow task fails after its projection ran")
        return result


class RecordingReadModel(ReadModel):
    """Notes each write it is asked for: (seq, the event's moment, the fence)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[tuple[int, str, str | None]] = []

    async def project(self, case: CaseState, event: Event, fence: str | None = None) -> None:
        self.writes.append((event.seq, event.at, fence))
        await super().project(case, event, fence)

    def project_ahead(self, case: CaseState, events: Sequence[Event], fence: str, loop: asyncio.AbstractEventLoop) -> None:
        self.writes.extend((event.seq, event.at, fence) for event in events)
        super().project_ahead(case, events, fence, loop)


@pytest.fixture
async def failing_worker(temporal_env, tmp_path):
    queue = f"fail-after-projection-{time.monotonic_ns()}"
    read_model = RecordingReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/rm.db"))
    await read_model.upgrade()
    activities = CaseActivities(read_model)
    worker = Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[CaseWorkflow, ReconcileSweepWorkflow],
        activities=[
            activities.project_case,
            activities.project_report,
            activities.dispatch_case,
            MessageActivities(NoOffice(), queue).announce,
            SweepActivities(Reconciler(temporal_env.client, read_model)).reconcile_recent,
        ],
        # Outermost first: the task fails after the validator's write (since v11) or the handler's.
        interceptors=[FailAfterProjection(), WriteAhead(read_model)],
    )
    async with worker:
        yield Cases(temporal_env.client, read_model, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500)), read_model, queue
    await read_model.close()


async def open_case(cases: Cases) -> CaseState:
    return await cases.open(Report(kind="complaint", title="t", description="d"), AGENT, None, uuid.uuid4().hex)


async def test_a_task_that_fails_after_its_projection_is_retried_and_its_write_is_replaced(failing_worker, temporal_env):
    cases, read_model, _ = failing_worker
    case = await open_case(cases)
    request_id = uuid.uuid4().hex
    request = ActInput("start_analysis", AGENT, "after the failure", request_id=request_id)
    FAIL_AFTER_PROJECTION.add(request_id)

    acknowledged = await cases.act(case.id, request)

    writes = [write for write in read_model.writes if write[0] == acknowledged.version]
    assert len(writes) == 2 and writes[0][1:] != writes[1][1:], writes  # the failed attempt's, then the retry's
    assert writes[0][2] is not None and writes[1][2] is not None and writes[0][2] < writes[1][2]
    assert (await read_model.get_case(case.id))["updated_at"] == acknowledged.updated_at
    audit = Audit(temporal_env.client, read_model)
    recorded = await audit.recorded_events(await audit.runs(case.id))
    assert await read_model.history(case.id) == recorded
    assert [event["at"] for event in recorded][-1] == acknowledged.updated_at == writes[1][1]
    assert (await Reconciler(temporal_env.client, read_model).reconcile(case.id)).describe() == f"{case.id}: in agreement"


async def a_change_the_retry_refuses(cases, temporal_env):
    """A new case and a change whose workflow task fails after its projection ran; the retried task
    refuses the change, so it is never acknowledged."""
    case = await open_case(cases)
    request_id = uuid.uuid4().hex
    request = ActInput("start_analysis", AGENT, "never acknowledged", request_id=request_id)
    FAIL_AFTER_PROJECTION.add(request_id)
    REFUSED_WHEN_RETRIED.add(request_id)
    with pytest.raises(WorkflowUpdateFailedError):
        await temporal_env.client.get_workflow_handle(case.id).execute_update(CaseWorkflow.act, request, id=request_id)
    return case


async def test_what_a_failed_task_wrote_and_no_retry_took_is_removed_by_the_reconciliation(failing_worker, temporal_env):
    cases, read_model, _ = failing_worker
    case = await a_change_the_retry_refuses(cases, temporal_env)

    # The failed attempt's write is there: an event and a phase the workflow does not have.
    assert [event["seq"] for event in await read_model.history(case.id)] == [1, 2]
    assert (await read_model.get_case(case.id))["state"] == "analyse"
    result = await Reconciler(temporal_env.client, read_model).reconcile(case.id)
    assert result.events_removed == [2] and result.case_row_updated, result.describe()
    assert [event["seq"] for event in await read_model.history(case.id)] == [1]
    stored = await read_model.get_case(case.id)
    assert (stored["version"], stored["state"]) == (1, "report")
    assert (await Reconciler(temporal_env.client, read_model).reconcile(case.id)).describe() == f"{case.id}: in agreement"


async def test_what_a_failed_task_wrote_is_replaced_by_the_next_change(failing_worker, temporal_env):
    cases, read_model, _ = failing_worker
    case = await a_change_the_retry_refuses(cases, temporal_env)

    next_change = await cases.act(case.id, ActInput("comment", AGENT, "the next change", request_id=uuid.uuid4().hex))

    history = await read_model.history(case.id)
    assert [(event["seq"], event["action"], event["note"]) for event in history] == [(1, "report", None), (2, "comment", "the next change")]
    stored = await read_model.get_case(case.id)
    assert (stored["version"], stored["state"]) == (next_change.version, next_change.state) == (2, "report")


async def test_the_scheduled_sweep_heals_a_failed_tasks_write_and_leaves_agreeing_cases_alone(failing_worker, temporal_env):
    cases, read_model, queue = failing_worker
    untouched = await open_case(cases)
    case = await a_change_the_retry_refuses(cases, temporal_env)
    assert [event["seq"] for event in await read_model.history(case.id)] == [1, 2]

    # What the schedule starts (workflows/sweeps.py), started here by hand.
    said = await temporal_env.client.execute_workflow(ReconcileSweepWorkflow.run, SweepInput(), id=f"sweep-{uuid.uuid4().hex}", task_queue=queue)

    assert len(said) == 1 and said[0].startswith(f"{case.id}: ") and "removed events 2" in said[0], said
    assert untouched.id not in " ".join(said)
    assert [event["seq"] for event in await read_model.history(case.id)] == [1]
    assert (await read_model.get_case(case.id) or {}).get("state") == "report"


async def test_the_end_of_the_history_shows_which_rows_the_last_projecting_task_wrote(failing_worker, temporal_env):
    cases, read_model, _ = failing_worker
    client = temporal_env.client
    routed_and_changed = await open_case(cases)
    await cases.act(routed_and_changed.id, ActInput("start_analysis", AGENT, "a change", request_id=uuid.uuid4().hex))
    just_opened = await open_case(cases)
    retried = await open_case(cases)
    request_id = uuid.uuid4().hex
    FAIL_AFTER_PROJECTION.add(request_id)
    await cases.act(retried.id, ActInput("start_analysis", AGENT, "taken by the retry", request_id=request_id))
    failed = await a_change_the_retry_refuses(cases, temporal_env)

    for agreeing in (routed_and_changed, just_opened, retried):
        assert await written_by_last_projection(client, agreeing.id, await stored_fence(read_model, agreeing.id)), agreeing.id
    # The failed task's write has no marker; the one before it is not the row's.
    assert not await written_by_last_projection(client, failed.id, await stored_fence(read_model, failed.id))
    # An older fence (the row behind the workflow), or none: undecided.
    report_written = [fence for seq, at, fence in read_model.writes if seq == 1 and at == routed_and_changed.created_at]
    assert len(report_written) == 1 and report_written[0] < (await stored_fence(read_model, routed_and_changed.id) or "~")
    assert not await written_by_last_projection(client, routed_and_changed.id, report_written[0])
    assert not await written_by_last_projection(client, just_opened.id, None)
    # A reconciliation's write is fenced above every task: undecided, never taken for a task's.
    await Reconciler(client, read_model).reconcile(failed.id)
    assert not await written_by_last_projection(client, failed.id, await stored_fence(read_model, failed.id))


class CountQueries(ClientInterceptor):
    def __init__(self) -> None:
        self.asked: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        asked = self.asked

        class Counting(OutboundInterceptor):
            async def query_workflow(self, input: QueryWorkflowInput) -> Any:
                asked.append(input.id)
                return await super().query_workflow(input)

        return Counting(next)


async def test_the_sweep_asks_a_workflow_only_where_its_history_does_not_show_agreement(failing_worker, temporal_env):
    cases, read_model, _ = failing_worker
    since = datetime.now(UTC) - timedelta(seconds=5)
    agreeing = [await open_case(cases) for _ in range(3)]
    await cases.act(agreeing[0].id, ActInput("start_analysis", AGENT, "a change", request_id=uuid.uuid4().hex))
    failed = await a_change_the_retry_refuses(cases, temporal_env)
    queries = CountQueries()
    client = Client(temporal_env.client.service_client, namespace=temporal_env.client.namespace, interceptors=[queries])
    reconciler = Reconciler(client, read_model)

    repaired = await reconciler.sweep(since)

    assert [(result.case_id, result.events_removed) for result in repaired] == [(failed.id, [2])]
    assert set(queries.asked) == {failed.id}
    # Repaired, its row carries the reconciliation's fence: asked again, and found in agreement.
    queries.asked.clear()
    assert [result.describe() for result in await reconciler.sweep(since)] == []
    assert queries.asked == [failed.id]
