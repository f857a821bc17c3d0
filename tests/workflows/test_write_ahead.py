"""Since v11 a change is written to the read model by its update's validator, before Temporal accepts
it (workflows/write_ahead.py): no local activity, no marker; since v12 a new case's report and
routing's decision too, where the service routed the case. A write the read model refuses or cannot
make in time rejects the update, and Temporal records nothing; replays write nothing and rebuild the
same case."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import DataError, OperationalError
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from service.audit import Audit
from service.cases import CaseRefused, Cases, Unavailable, WorkflowConfig
from service.last_projection import written_by_last_projection
from service.read_model import ReadModel, create_engine
from service.reconcile import Reconciler
from states.case import CaseState, Event
from states.opening import Report
from states.verification import compare
from tests.conftest import worker_on
from tests.support import AGENT, ROUTED, FixedRouter, stored_fence
from workflows.activities import CaseActivities
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import ActInput
from workflows.messages import MessageActivities, NoOffice
from workflows.write_ahead import READ_MODEL_BUSY, WriteAhead

BUSY, REFUSED = "busy", "refused"


class TroubledReadModel(ReadModel):
    """Locked for the next `busy` writes of an event noted BUSY; refuses an event noted REFUSED (or a
    case so titled: a report has no note)."""

    busy = 0

    def _write(self, connection: Connection, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        notes = {case.title, *(event.note for event in events)}
        if BUSY in notes and self.busy > 0:
            self.busy -= 1
            raise OperationalError("INSERT INTO events ...", {}, Exception("database is locked"))
        if REFUSED in notes:
            raise DataError("INSERT INTO events ...", {}, ValueError(REFUSED))
        super()._write(connection, case, events, fence)


@pytest.fixture
async def stack(temporal_env, tmp_path):
    queue = f"write-ahead-{time.monotonic_ns()}"
    read_model = TroubledReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/rm.db"))
    await read_model.upgrade()
    async with worker_on(temporal_env.client, read_model, queue):
        yield Cases(temporal_env.client, read_model, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500)), read_model
    await read_model.close()


def routing(cases: Cases) -> Cases:
    """The same service, routing each new case before reporting it (as `casework api` does)."""
    cases._router = FixedRouter()
    return cases


async def open_case(cases: Cases, title: str = "t") -> CaseState:
    return await cases.open(Report(kind="complaint", title=title, description="d"), AGENT, None, uuid.uuid4().hex)


def change(action: str, note: str | None = None) -> ActInput:
    return ActInput(action, AGENT, note, request_id=uuid.uuid4().hex)


async def event_types(client, case_id: str) -> list[int]:
    return [event.event_type for event in (await client.get_workflow_handle(case_id).fetch_history()).events]


async def test_a_change_is_written_before_it_is_accepted_and_its_task_records_no_marker(stack, temporal_env):
    cases, read_model = stack
    case = await open_case(cases)
    markers_of_the_report = (await event_types(temporal_env.client, case.id)).count(EventType.EVENT_TYPE_MARKER_RECORDED)

    acknowledged = await cases.act(case.id, change("acknowledge"))
    analysing = await cases.act(case.id, change("start_analysis", "looking"))

    types = await event_types(temporal_env.client, case.id)
    assert types.count(EventType.EVENT_TYPE_MARKER_RECORDED) == markers_of_the_report == 1
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 3
    stored = await read_model.get_case(case.id)
    assert stored is not None and (stored["version"], stored["state"]) == (analysing.version, "analyse") == (acknowledged.version + 1, "analyse")
    assert [event["note"] for event in await read_model.history(case.id)][-1] == "looking"
    # The row names the task that accepted the change: the sweep's check agrees without a query.
    assert await written_by_last_projection(temporal_env.client, case.id, await stored_fence(read_model, case.id))
    audit = Audit(temporal_env.client, read_model)
    assert await read_model.history(case.id) == await audit.recorded_events(await audit.runs(case.id))


async def test_a_routed_report_and_routings_decision_are_written_before_the_report_is_accepted(stack, temporal_env):
    cases, read_model = stack
    case = await open_case(routing(cases))

    types = await event_types(temporal_env.client, case.id)
    assert types.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 0
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1
    assert (case.version, case.team, case.owner) == (2, ROUTED.team, ROUTED.owner)
    history = await read_model.history(case.id)
    assert [event["action"] for event in history] == ["report", "dispatch"]
    assert history[1]["data"] == {
        "rule": ROUTED.rule,
        "method": ROUTED.method,
        "reason": ROUTED.reason,
        "team_policy": True,
        "team": "一线",
        "owner": "ann",
    }
    stored = await read_model.get_case(case.id)
    assert stored is not None and (stored["version"], stored["team"], stored["owner"]) == (2, ROUTED.team, ROUTED.owner)
    assert await written_by_last_projection(temporal_env.client, case.id, await stored_fence(read_model, case.id))
    audit = Audit(temporal_env.client, read_model)
    assert compare(history, await audit.recorded_events(await audit.runs(case.id))) is None
    # The team's policy is the case's from now on: a change after the report runs on it.
    after = await cases.act(case.id, change("acknowledge"))
    assert after.version == 3
    assert (await Reconciler(temporal_env.client, read_model).reconcile(case.id)).describe() == f"{case.id}: in agreement"


async def test_a_routed_report_the_read_model_refuses_is_rejected_and_opens_nothing(stack, temporal_env):
    cases, read_model = routing(stack[0]), stack[1]

    with pytest.raises(CaseRefused) as refused:
        await open_case(cases, title=REFUSED)

    assert refused.value.kind == "ProjectionRefused"
    assert await read_model.get_case(refused.value.details["case_id"]) is None
    types = await event_types(temporal_env.client, refused.value.details["case_id"])
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED not in types
    assert (await open_case(cases)).version == 2  # another report is taken as usual


async def test_a_routed_report_meeting_a_busy_read_model_is_sent_again_and_opened_once(stack, temporal_env):
    cases, read_model = routing(stack[0]), stack[1]
    read_model.busy = 2

    case = await open_case(cases, title=BUSY)

    assert (case.version, read_model.busy) == (2, 0)
    types = await event_types(temporal_env.client, case.id)
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1
    assert [event["action"] for event in await read_model.history(case.id)] == ["report", "dispatch"]


async def test_a_change_the_read_model_refuses_is_rejected_and_temporal_records_nothing(stack, temporal_env):
    cases, read_model = stack
    case = await open_case(cases)
    refused = change("start_analysis", REFUSED)
    accepted_before = (await event_types(temporal_env.client, case.id)).count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)

    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await temporal_env.client.get_workflow_handle(case.id).execute_update(CaseWorkflow.act, refused, id=refused.request_id)

    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ProjectionRefused" and cause.details[0]["seq"] == 2
    types = await event_types(temporal_env.client, case.id)
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == accepted_before
    assert read_model.alarm.status() is not None and case.id in read_model.alarm.status()
    after = await cases.act(case.id, change("start_analysis", "the next one"))
    assert (after.version, after.state) == (2, "analyse")
    assert [event["seq"] for event in await read_model.history(case.id)] == [1, 2]


async def test_a_busy_read_model_is_asked_again_and_the_change_is_taken_once(stack, temporal_env):
    cases, read_model = stack
    case = await open_case(cases)
    read_model.busy = 2  # the first two writes find the file locked

    after = await cases.act(case.id, change("start_analysis", BUSY))

    assert (after.version, read_model.busy) == (2, 0)
    types = await event_types(temporal_env.client, case.id)
    assert types.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 2  # the report and this change, once
    assert [event["note"] for event in await read_model.history(case.id)] == [None, BUSY]


async def test_a_read_model_busy_for_longer_answers_unavailable_and_nothing_is_changed(stack, temporal_env):
    cases, read_model = stack
    case = await open_case(cases)
    read_model.busy = 100

    with pytest.raises(Unavailable) as unavailable:
        await cases.act(case.id, change("start_analysis", BUSY))

    assert "nothing was changed" in str(unavailable.value)
    handle = temporal_env.client.get_workflow_handle(case.id)
    assert (await handle.query(CaseWorkflow.snapshot)).version == 1
    assert (await read_model.get_case(case.id) or {})["version"] == 1
    read_model.busy = 0
    rejected = change("start_analysis", BUSY)
    read_model.busy = 100
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(CaseWorkflow.act, rejected, id=rejected.request_id)
    assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == READ_MODEL_BUSY


async def test_a_worker_that_replays_every_task_rebuilds_the_cases_it_wrote_ahead(temporal_env, tmp_path):
    """No workflow kept in the worker's cache: every task replays the history (no validator runs in a
    replay, so the changes are taken again by the rules) before taking the new change ahead."""
    queue = f"write-ahead-no-cache-{time.monotonic_ns()}"
    read_model = ReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/rm.db"))
    await read_model.upgrade()
    activities = CaseActivities(read_model)
    worker = Worker(
        temporal_env.client,
        task_queue=queue,
        workflows=[CaseWorkflow],
        activities=[activities.project_case, activities.project_report, activities.dispatch_case, MessageActivities(NoOffice(), queue).announce],
        interceptors=[WriteAhead(read_model)],
        max_cached_workflows=0,
    )
    cases = Cases(temporal_env.client, read_model, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500), router=FixedRouter())
    try:
        async with worker:
            case = await open_case(cases)
            assert case.owner == ROUTED.owner
            steps: list[tuple[str, dict[str, Any] | None]] = [
                ("acknowledge", None),
                ("start_analysis", None),
                ("record_findings", {"findings": "wrong station"}),
                ("propose_remedy", {"solution": "courier"}),
                ("complete_remedy", {"resolution": "redelivered"}),
            ]
            for action, data in steps:
                await cases.act(case.id, ActInput(action, AGENT, None, data, request_id=uuid.uuid4().hex))
            reconciled = await Reconciler(temporal_env.client, read_model).reconcile(case.id)
            assert reconciled.describe() == f"{case.id}: in agreement"
            audit = Audit(temporal_env.client, read_model)
            history = await read_model.history(case.id)
            assert [event["seq"] for event in history] == list(range(1, len(steps) + 3))  # the report, routing's decision, the steps
            assert compare(history, await audit.recorded_events(await audit.runs(case.id))) is None
    finally:
        await read_model.close()
