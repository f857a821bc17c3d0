"""Whether a case's row in the read model was written by the workflow task that made the last
projection Temporal recorded: read from the end of the case's history, by Temporal alone (no query,
so no worker and no replay of a run gone from its cache).

A projection is a local activity (since "project-locally"), whose marker is recorded by the task that
ran it, or (since v11) the write of a change by its update's validator, whose acceptance is recorded by
that task (workflows/write_ahead.py). Either write carries that task's fence (workflows/activities.py
`projection_fence`): the id of the task's started event and that event's moment. If the row's fence
names the history's last projecting task, the row is what that task wrote and no later task projected:
nothing is ahead of the workflow (a task that wrote and then failed has no marker and accepted nothing)
and nothing is behind. Anything else
(another task, a reconciliation's fence, a run with no projection yet, a history too long to walk)
is undecided here, and the caller asks the workflow (service/reconcile.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import Client

from workflows.activities import LAST_MOMENT, PROJECT_ACTIVITIES, fence_task, micros
from workflows.case_workflow import CaseWorkflow

# A local activity's marker, as the SDK's core records it.
LOCAL_ACTIVITY_MARKER = "core_local_activity"
# The updates whose validators write their change (`act` since v11, a routed `report` since v12; before,
# their task records a marker as well).
WRITING_UPDATES = (CaseWorkflow.act.__name__, CaseWorkflow.report.__name__)  # type: ignore[attr-defined]  # named after their methods
# A change is six to nine events (with its timers): a page of twelve from the end usually holds the last
# projection's task, and asking for fewer costs Temporal no less (bench/sweep.py). Beyond eight pages, a
# query is as cheap.
PAGE = 12
PAGES = 8


async def written_by_last_projection(client: Client, case_id: str, fence: str | None) -> bool:
    """True: the row's fence is that of the task of the history's last projection. False: undecided."""
    if fence is None:
        return False
    started_id, moment = fence_task(fence)
    if moment == LAST_MOMENT:
        return False
    # The run's start (the fence's first part) needs no comparing: every task of a later run began later.
    task = await _last_projecting_task(client, case_id)
    return task == (started_id, moment)


async def _last_projecting_task(client: Client, case_id: str) -> tuple[int, int] | None:
    """(started event id, its moment in microseconds) of the task that recorded the current run's last
    projection marker or accepted change; None if not within PAGES pages of the end."""
    request = GetWorkflowExecutionHistoryReverseRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=case_id), maximum_page_size=PAGE
    )
    projection_seen, started_id = False, None
    for _ in range(PAGES):
        page = await client.workflow_service.get_workflow_execution_history_reverse(request)
        for event in page.history.events:
            if started_id is not None and event.event_id == started_id:
                return started_id, _moment(event)
            if not projection_seen:
                projection_seen = _is_projection_marker(event) or _is_accepted_change(event)
            elif started_id is None and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                # The commands of a task follow its completion: the first completion before the marker is its task's.
                started_id = event.workflow_task_completed_event_attributes.started_event_id
        if not page.next_page_token:
            return None
        request.next_page_token = page.next_page_token
    return None


def _is_accepted_change(event: HistoryEvent) -> bool:
    if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return False
    return event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name in WRITING_UPDATES


def _is_projection_marker(event: HistoryEvent) -> bool:
    if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
        return False
    marker = event.marker_recorded_event_attributes
    if marker.marker_name != LOCAL_ACTIVITY_MARKER or "data" not in marker.details:
        return False
    payloads = marker.details["data"].payloads
    try:
        data = json.loads(payloads[0].data) if payloads else {}
    except ValueError:
        return False  # not the core's plain JSON: undecided, never a false agreement
    return isinstance(data, dict) and data.get("activity_type") in PROJECT_ACTIVITIES


def _moment(event: HistoryEvent) -> int:
    # The task's moment as its workflow read it: the SDK's `workflow.now()` turns the started event's
    # nanoseconds into float seconds and a datetime, which rounds (not truncates) to the microsecond.
    return micros(datetime.fromtimestamp(event.event_time.ToNanoseconds() / 1e9, UTC))
