"""A change the read model refuses for good fails that one request with a problem, raises the alarm
(an ERROR log line naming the case, a metric, /health degraded) and leaves the case usable: the
update's validator, which writes the change (v11), rejects it, or (a change written by a local
activity) the workflow takes it back; so the next request succeeds and the history stays gapless."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import DataError
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from service.cases import Cases, WorkflowConfig
from service.read_model import ReadModel, create_engine
from service.reconcile import Reconciler
from states.case import CaseState, Event
from states.opening import Report
from tests.api.conftest import DATABASES, stack_on
from tests.api.test_unicode import no_failing_projection
from tests.conftest import auth, worker_on
from tests.support import ACTORS
from workflows.activities import CaseActivities
from workflows.case_workflow import PROJECTION_RETRY, CaseWorkflow
from workflows.inputs import ActInput, CaseWorkflowInput, ProjectInput
from workflows.messages import MessageActivities, NoOffice

REFUSED = "the test's read model refuses this row"


class RefusingReadModel(ReadModel):
    """A read model that refuses, as a database refuses a value it cannot hold, every row of an event
    noted REFUSED, and every case titled REFUSED (the real NUL is refused before it gets this far)."""

    def _write(self, connection: Connection, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        if case.title == REFUSED or any(event.note == REFUSED for event in events):
            raise DataError("INSERT INTO events ...", {}, ValueError(REFUSED))
        super()._write(connection, case, events, fence)


@pytest.fixture(scope="module", params=DATABASES)
async def stack(request, temporal_env, stack_settings, tmp_path_factory):
    path = tmp_path_factory.mktemp("refused")
    async with stack_on(request.param, temporal_env, stack_settings, path, read_model_class=RefusingReadModel) as stack:
        yield stack


async def test_a_refused_change_fails_alone_raises_the_alarm_and_the_case_goes_on(stack, caplog):
    api, http = stack.api, stack.api.client
    case = await api.open("complaint")
    acknowledged = await api.act(case["id"], "acknowledge")
    assert (await http.get("/health")).json()["status"] == "ok"

    with caplog.at_level(logging.ERROR, logger="casework.projection"):
        refused = await http.post(f"/cases/{case['id']}/transitions", json={"action": "start_analysis", "note": REFUSED}, headers=auth("agent"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["title"] == "not storable"
    assert any(record.levelno == logging.ERROR and case["id"] in record.getMessage() for record in caplog.records)

    health = (await http.get("/health")).json()
    assert health["status"] == "degraded" and case["id"] in health["read_model"] and health["alerts"], health
    metrics = (await http.get("/metrics", headers=auth("auditor"))).text
    assert any(
        line.startswith('casework_projections_refused_total{kind="complaint"}') and float(line.split()[-1]) >= 1 for line in metrics.splitlines()
    ), metrics

    # The refused change (report -> analyse) was rejected: the case is as it was, in the read model
    # and in the workflow, whose phase lets the same action be taken again.
    current = await api.get(case["id"])
    assert (current["version"], current["state"]) == (acknowledged["version"], "report")
    # Temporal recorded nothing of it: audit and reconcile agree.
    verified = (await http.get(f"/cases/{case['id']}/history/verify", headers=auth("auditor"))).json()
    assert verified["ok"] is True, verified
    reconciled = await Reconciler(stack.temporal, stack.read_model).reconcile(case["id"])
    assert not reconciled.changed and not reconciled.problems, reconciled.describe()
    after = await api.act(case["id"], "start_analysis", note="the next request")
    assert (after["version"], after["state"]) == (acknowledged["version"] + 1, "analyse")
    history = await api.history(case["id"])
    assert [event["seq"] for event in history] == list(range(1, after["version"] + 1))
    assert history[-1]["note"] == "the next request"
    verified = (await http.get(f"/cases/{case['id']}/history/verify", headers=auth("auditor"))).json()
    assert verified["ok"] is True, verified
    reconciled = await Reconciler(stack.temporal, stack.read_model).reconcile(case["id"])
    assert not reconciled.changed and not reconciled.problems, reconciled.describe()
    await no_failing_projection(stack)


async def test_a_refused_report_opens_nothing_and_leaves_no_workflow_retrying(stack):
    http = stack.api.client
    refused = await http.post("/cases", json={"kind": "feedback", "title": REFUSED, "description": "d"}, headers=auth("agent"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["title"] == "not storable"
    await no_failing_projection(stack)
    # Another case on the same stack is reported as usual.
    await stack.api.open("feedback")


class RetryingForeverReadModel(ReadModel):
    """How a release before issue 13 met a row it could not write: an error it retried for ever."""

    async def _project(self, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        if any(event.note == REFUSED for event in events):
            raise RuntimeError("unsupported Unicode escape sequence (as asyncpg said it, unclassified)")
        await super()._project(case, events, fence)


@workflow.defn(name="Case", sandboxed=False)
class CaseWorkflowBeforeV8(CaseWorkflow):
    """The case workflow of a release before "project-locally": a regular projection activity."""

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseState | None:
        return await super().run(input)

    def _v9(self) -> bool:
        return False

    def _v10(self) -> bool:
        return False

    async def _write(self, event: Event, retry_refused: bool, route: bool = False) -> None:
        await workflow.execute_activity_method(
            CaseActivities.project_case,
            ProjectInput(case=self._opened.case, event=event, retry_refused=retry_refused),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )


def worker_before_v8(client, store: ReadModel, queue: str) -> Worker:
    activities = CaseActivities(store)
    return Worker(
        client,
        task_queue=queue,
        workflows=[CaseWorkflowBeforeV8],
        activities=[activities.project_case, activities.dispatch_case, MessageActivities(NoOffice(), queue).announce],
    )


async def test_a_case_wedged_by_a_projection_retried_for_ever_is_released_by_this_version(temporal_env, stack_settings, tmp_path, monkeypatch):
    """docs/deploy.md: deploying this version's worker releases a case wedged by the old one."""
    monkeypatch.setattr("service.cases.CASE_CODE_VERSION", 0)  # started as the old release started it
    queue = f"wedged-{time.monotonic_ns()}"
    url = f"sqlite+aiosqlite:///{tmp_path}/wedged.db"
    old, new = RetryingForeverReadModel(create_engine(url)), RefusingReadModel(create_engine(url))
    await old.upgrade()
    client = temporal_env.client
    cases = Cases(client, new, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500))
    try:
        async with worker_before_v8(client, old, queue):
            case = await cases.open(Report(kind="complaint", title="t", description="d"), ACTORS["agent"], None, uuid.uuid4().hex)
            wedging = ActInput("start_analysis", ACTORS["agent"], REFUSED, request_id=uuid.uuid4().hex)
            handle = client.get_workflow_handle(case.id)
            update = await handle.start_update(CaseWorkflow.act, wedging, id=wedging.request_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
            while not any(activity.attempt > 2 for activity in (await handle.describe()).raw_description.pending_activities):
                await asyncio.sleep(0.2)
        async with worker_on(client, new, queue):
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await update.result()
            cause = failed.value.cause
            assert isinstance(cause, ApplicationError) and cause.type == "ProjectionRefused"
            after = await cases.act(case.id, ActInput("start_analysis", ACTORS["agent"], "the next request", request_id=uuid.uuid4().hex))
            assert (after.version, after.state) == (2, "analyse")
            assert [event["seq"] for event in await new.history(case.id)] == [1, 2]
    finally:
        await old.close()
        await new.close()


class SlowlyRefusingReadModel(ReadModel):
    """Refuses an event noted REFUSED after a moment (so another change can be taken on top of it
    meanwhile), until an operator repairs it (`refusing = False`); writes an event noted SLOW after a moment."""

    refusing = True
    refusals = 0

    async def _project(self, case: CaseState, events: Sequence[Event], fence: str | None) -> None:
        notes = {event.note for event in events}
        if SLOW in notes:
            await asyncio.sleep(1)
        if REFUSED in notes and self.refusing:
            await asyncio.sleep(1)
            self.refusals += 1
            raise DataError("INSERT INTO events ...", {}, ValueError(REFUSED))
        await super()._project(case, events, fence)


SLOW = "slow"


async def test_a_refused_change_with_another_on_top_is_retried_until_the_store_is_repaired(temporal_env, stack_settings, tmp_path, monkeypatch):
    """docs/deploy.md, step 3: it cannot be taken back without the one on top, so its write is retried;
    once the store takes the row, both changes are applied and the history has no gap. (A run begun
    before v11, whose changes a local activity writes after they are taken.)"""
    monkeypatch.setattr("service.cases.CASE_CODE_VERSION", 10)
    queue = f"on-top-{time.monotonic_ns()}"
    store = SlowlyRefusingReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/on-top.db"))
    await store.upgrade()
    client = temporal_env.client
    cases = Cases(client, store, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500))
    try:
        async with worker_on(client, store, queue):
            case = await cases.open(Report(kind="complaint", title="t", description="d"), ACTORS["agent"], None, uuid.uuid4().hex)
            handle = client.get_workflow_handle(case.id)
            slow, refused, on_top = (ActInput("comment", ACTORS["agent"], note, request_id=uuid.uuid4().hex) for note in (SLOW, REFUSED, "on top"))
            # The projection runs inside the workflow task: both arrive while the slow one's task runs, and are
            # taken in the next task together, the refused one first.
            blocking = asyncio.create_task(handle.execute_update(CaseWorkflow.act, slow, id=slow.request_id))
            await asyncio.sleep(0.3)
            first = asyncio.create_task(handle.execute_update(CaseWorkflow.act, refused, id=refused.request_id))
            await asyncio.sleep(0.1)
            second = asyncio.create_task(handle.execute_update(CaseWorkflow.act, on_top, id=on_top.request_id))
            assert (await blocking).version == 2
            assert (await second).version == 4
            while store.refusals < 2:
                await asyncio.sleep(0.2)
            assert not [event for event in await store.history(case.id) if event["seq"] == 3]
            store.refusing = False  # the operator repairs the store
            assert (await first).version == 4
            assert [(event["seq"], event["note"]) for event in await store.history(case.id)] == [(1, None), (2, SLOW), (3, REFUSED), (4, "on top")]
            stored = await store.get_case(case.id)
            assert stored is not None and stored["version"] == 4
    finally:
        await store.close()
