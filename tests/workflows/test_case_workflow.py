"""The case workflow on a real Temporal dev server: long cases continue as new and lose nothing."""

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from service.cases import Cases, WorkflowConfig
from service.read_model import ReadModel, create_engine
from states.case import CaseState, Event
from states.opening import Report
from tests.conftest import worker_on
from tests.support import AGENT, COMPLAINT_WALK
from tests.workflows.walking import walk_case
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import ActInput
from workflows.search import CASE_STATE


async def run_chain(client: Client, case_id: str) -> list[str]:
    """The run ids of a case's workflow, first to current, following continue-as-new."""
    description = await client.get_workflow_handle(case_id).describe()
    run_id: str | None = description.raw_description.workflow_execution_info.first_run_id
    chain: list[str] = []
    while run_id:
        chain.append(run_id)
        history = await client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
        last = history.events[-1]
        continued = last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id if continued else None
    return chain


async def test_a_long_case_continues_as_new_and_keeps_its_state_and_gap_free_history(temporal_env, read_model, worker, stack_settings):
    policy = WorkflowConfig(stack_settings.task_queue, reopen_window_seconds=3600, events_per_run=4)
    case_id = await walk_case(temporal_env.client, read_model, policy, "complaint")

    chain = await run_chain(temporal_env.client, case_id)
    assert len(chain) >= 3, chain
    history = await read_model.history(case_id)
    assert [event["seq"] for event in history] == list(range(1, len(COMPLAINT_WALK) + 2))
    snapshot = await temporal_env.client.get_workflow_handle(case_id).query("snapshot")
    assert (snapshot["state"], snapshot["version"]) == ("closed", len(COMPLAINT_WALK) + 1)
    assert snapshot["data"]["reason"] == "the parcel was delivered as agreed"


class RecordingReadModel(ReadModel):
    """Notes the case and event of each projection, as the activity received them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received: list[tuple[int, int]] = []

    async def project(self, case: CaseState, event: Event, fence: str | None = None) -> None:
        self.received.append((event.seq, case.version))
        await super().project(case, event, fence)

    def project_ahead(self, case: CaseState, events: Sequence[Event], fence: str, loop: asyncio.AbstractEventLoop) -> None:
        self.received.extend((event.seq, case.version) for event in events)
        super().project_ahead(case, events, fence, loop)


async def test_each_projection_carries_the_case_as_of_its_own_event_under_concurrent_updates(temporal_env, tmp_path):
    queue = f"concurrent-{uuid.uuid4().hex}"
    read_model = RecordingReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/rm.db"))
    await read_model.upgrade()
    try:
        async with worker_on(temporal_env.client, read_model, queue):
            cases = Cases(temporal_env.client, read_model, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500))
            case = await cases.open(Report(kind="complaint", title="并发", description="five notes at once"), AGENT, None, uuid.uuid4().hex)
            notes = [ActInput("comment", AGENT, f"note {n}", request_id=uuid.uuid4().hex) for n in range(5)]
            await asyncio.gather(*(cases.act(case.id, note) for note in notes))
    finally:
        await read_model.close()
    assert sorted(read_model.received) == [(seq, seq) for seq in range(1, 7)]


async def test_an_update_carrying_a_nul_that_slipped_past_the_api_is_refused_without_a_trace(temporal_env, read_model, worker, stack_settings):
    """The API refuses it first; the workflow's validator refuses it too, so a caller of Temporal itself
    cannot wedge the case: a rejected update writes nothing to the history."""
    cases = Cases(temporal_env.client, read_model, WorkflowConfig(stack_settings.task_queue, reopen_window_seconds=3600, events_per_run=500))
    case = await cases.open(Report(kind="complaint", title="t", description="d"), AGENT, None, uuid.uuid4().hex)
    handle = temporal_env.client.get_workflow_handle(case.id)
    before = len((await handle.fetch_history()).events)
    for request in (
        ActInput("comment", AGENT, "a \x00 in the note", request_id=uuid.uuid4().hex),
        ActInput("comment", AGENT, "n", data={"a\x00key": 1}, request_id=uuid.uuid4().hex),
        ActInput("comment", AGENT, "n", data={"deep": [{"value": "\ud800"}]}, request_id=uuid.uuid4().hex),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(CaseWorkflow.act, request, id=request.request_id)
        assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == "InvalidData"
    last_cause = refused.value.cause
    assert isinstance(last_cause, ApplicationError) and last_cause.details[0]["field"] == "data.deep[0].value"
    history = await handle.fetch_history()
    assert len(history.events) == before
    assert (await read_model.get_case(case.id))["version"] == 1


async def test_temporal_search_sees_a_case_close_and_reopen_and_one_code_version(temporal_env, read_model, worker, stack_settings):
    """`CaseState` is written to Temporal's visibility store when a case closes or reopens only: the
    read model has the phase; a visibility write per change of phase cost the server a fifth of its CPU."""
    cases = Cases(temporal_env.client, read_model, WorkflowConfig(stack_settings.task_queue, reopen_window_seconds=3600, events_per_run=500))
    case = await cases.open(Report(kind="complaint", title="可搜索", description="d"), AGENT, None, uuid.uuid4().hex)
    handle = temporal_env.client.get_workflow_handle(case.id)
    searched = []
    for step in COMPLAINT_WALK:
        case = await cases.act(case.id, ActInput(step.action, step.actor, None, step.data, request_id=uuid.uuid4().hex))
        searched.append((case.state, (await handle.describe()).typed_search_attributes.get(CASE_STATE)))
    assert [temporal for phase, temporal in searched if phase != "closed"] == ["report"] * 9 + ["analyse"]
    assert [temporal for phase, temporal in searched if phase == "closed"] == ["closed", "closed"]
    upserts = [
        event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for event in (await handle.fetch_history()).events
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    assert [fields["CaseState"].data for fields in upserts if "CaseState" in fields] == [b'"closed"', b'"analyse"', b'"closed"']
    # The SDK upserts TemporalChangeVersion with each patch a run checks first: since v10 a new run checks none.
    assert not [fields for fields in upserts if "TemporalChangeVersion" in fields]
    history = await handle.fetch_history()
    assert not [event for event in history.events if event.marker_recorded_event_attributes.marker_name == "core_patch"]
