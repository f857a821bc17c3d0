"""Storm control: breaches of one cause escalate into one emergency meeting, not dozens.

One small entity workflow per cause — (kind, category, team) of the breaching case — whose id is the
cause. A case whose breach escalates it asks it, by an update, which incident to join: Temporal runs
the update handlers of one workflow one task at a time, and the handler decides (join, or reserve a
new id) before its first `await`, so ten cases breaching in the same second get one incident. The
incident is started here, as an abandoned child, before anyone is told its id: a case told to join
it can always signal it. The workflow ends once its window has passed with nothing left to answer;
the next breach of the cause starts it afresh (update-with-start).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from states.case import Actor, CaseState
    from states.vocabulary import SYSTEM, Phase, Relation
    from workflows import follow_ons
    from workflows.inputs import CaseWorkflowInput, JoinedStorm, JoinStormInput, ReportInput, StormInput
    from workflows.search import CASE_KIND, CASE_PRIORITY, CASE_STATE

STORM_WORKFLOW = "EscalationStorm"
MIN_TIMER = timedelta(milliseconds=10)


def storm_cause(case: CaseState) -> str:
    """The cause a breach is grouped by: the case's kind, category and team ('-' where it has none)."""
    return ":".join((case.kind, str(case.data.get("category") or "-"), case.team or "-"))


def storm_id(cause: str) -> str:
    return f"escalation-storm:{cause}"


@workflow.defn(name=STORM_WORKFLOW)
class StormWorkflow:
    @workflow.init
    def __init__(self, input: StormInput) -> None:
        self._window = timedelta(seconds=input.window_seconds)
        self._incident: str | None = None
        self._opened_at = workflow.now()
        self._started: set[str] = set()

    @workflow.run
    async def run(self, input: StormInput) -> None:
        await workflow.wait_condition(lambda: self._incident is not None)
        while True:
            end = self._opened_at + self._window
            try:
                await workflow.wait_condition(functools.partial(self._moved, end), timeout=max(end - workflow.now(), MIN_TIMER))
            except TimeoutError:
                pass
            if workflow.now() >= self._opened_at + self._window:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if workflow.now() >= self._opened_at + self._window:
                    return

    def _moved(self, end: datetime) -> bool:
        """A new incident was opened for the cause: its window ends later."""
        return self._opened_at + self._window != end

    @workflow.update
    async def join(self, input: JoinStormInput) -> JoinedStorm:
        # Decide before the first await: the next update sees this one's decision.
        now = workflow.now()
        if self._incident is not None and now < self._opened_at + self._window:
            incident_id = self._incident
            await workflow.wait_condition(lambda: incident_id in self._started)
            return JoinedStorm(incident_id, opened=False)
        incident_id = follow_ons.new_case_id()
        self._incident, self._opened_at = incident_id, now
        await _open_incident(incident_id, input)
        self._started.add(incident_id)
        return JoinedStorm(incident_id, opened=True)


async def _open_incident(incident_id: str, input: JoinStormInput) -> None:
    """Start the incident's case workflow; it reports itself, linked to the first breaching case."""
    opening = ReportInput(input.report, Actor(SYSTEM), input.case_id, input.request_id, source_relation=Relation.ESCALATED_FROM, link_back=False)
    child = CaseWorkflowInput(
        case_id=incident_id,
        kind=input.report.kind,
        reopen_window_seconds=input.reopen_window_seconds,
        events_per_run=input.events_per_run,
        sla_policy=input.sla_policy,
        escalation_window_seconds=input.window_seconds,
        opening=opening,
    )
    await workflow.start_child_workflow(
        follow_ons.CASE_WORKFLOW,
        child,
        id=incident_id,
        task_queue=workflow.info().task_queue,
        parent_close_policy=ParentClosePolicy.ABANDON,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(CASE_KIND, input.report.kind),
                SearchAttributePair(CASE_PRIORITY, input.report.priority),
                SearchAttributePair(CASE_STATE, Phase.REPORT),
            ]
        ),
    )


class StormActivities:
    """The case workflow's way to the storm-control workflow: workflows cannot send updates themselves."""

    def __init__(self, client: Client | None = None) -> None:
        self._client = client

    @activity.defn
    async def join_escalation_storm(self, input: JoinStormInput) -> JoinedStorm:
        client = self._client or activity.client()
        start = WithStartWorkflowOperation(
            StormWorkflow.run,
            StormInput(input.cause, input.window_seconds),
            id=storm_id(input.cause),
            task_queue=activity.info().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        # The update id makes a retried activity get the answer its first attempt got.
        return await client.execute_update_with_start_workflow(StormWorkflow.join, input, start_workflow_operation=start, id=input.request_id)
