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
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from states.case import Actor, CaseState
    from states.vocabulary import SYSTEM, Relation
    from workflows import follow_ons
    from workflows.inputs import CaseWorkflowInput, JoinedStorm, JoinStormInput, StormInput

STORM_WORKFLOW = "EscalationStorm"
STORM_CLOSED_SIGNAL = "storm_incident_closed"
# The storm workflow could not open an incident: the breaching case opens its own.
STORM_REFUSED = "StormRefused"
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
        # Incidents this workflow opened that have closed since: a breach no longer joins them.
        self._closed: set[str] = set()

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

    @workflow.signal(name=STORM_CLOSED_SIGNAL)
    def incident_closed(self, incident_id: str) -> None:
        self._closed.add(incident_id)

    def _joinable(self) -> str | None:
        """The incident a breach joins now: opened within the window, and not closed since."""
        if self._incident is None or self._incident in self._closed or workflow.now() >= self._opened_at + self._window:
            return None
        return self._incident

    @workflow.update
    async def join(self, input: JoinStormInput) -> JoinedStorm:
        while (incident_id := self._joinable()) is not None:
            # Being opened by an earlier update: join it once it started, or decide again if it failed.
            await workflow.wait_condition(lambda: incident_id in self._started or self._incident != incident_id)
            if incident_id in self._started:
                return JoinedStorm(incident_id, opened=False)
        # Decide before the first await: the next update sees this one's decision.
        incident_id = follow_ons.new_case_id()
        previous = self._incident, self._opened_at
        self._incident, self._opened_at = incident_id, workflow.now()
        try:
            await _open_incident(incident_id, input)
        except Exception as error:
            # Nobody waits for an incident that never started: the next breach opens one afresh.
            self._incident, self._opened_at = previous
            raise ApplicationError(f"could not open the incident for {input.cause}: {error}", type=STORM_REFUSED, non_retryable=True) from error
        self._started.add(incident_id)
        return JoinedStorm(incident_id, opened=True)


async def _open_incident(incident_id: str, input: JoinStormInput) -> None:
    """Start the incident's case workflow (as any follow-on case); it reports itself, linked to the first
    breaching case, and tells this workflow when it closes."""
    parent = CaseWorkflowInput(
        case_id=input.case_id,
        kind=input.report.kind,
        reopen_window_seconds=input.reopen_window_seconds,
        events_per_run=input.events_per_run,
        sla_policy=input.sla_policy,
        escalation_window_seconds=input.window_seconds,
    )
    await follow_ons.open_linked_case(
        parent, incident_id, input.report, Actor(SYSTEM), Relation.ESCALATED_FROM, input.request_id, storm_cause=input.cause
    )


async def tell_closed(cause: str, incident_id: str) -> None:
    """From the incident's workflow, as it closes: breaches of its cause no longer join it."""
    try:
        await follow_ons.signal(storm_id(cause), STORM_CLOSED_SIGNAL, incident_id)
    except Exception as error:  # a courtesy: the closing never fails for it (a storm past its window is gone)
        workflow.logger.warning("could not tell storm %s that %s closed: %s", cause, incident_id, error)


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
        try:
            return await client.execute_update_with_start_workflow(StormWorkflow.join, input, start_workflow_operation=start, id=input.request_id)
        except WorkflowUpdateFailedError as error:
            # Its answer stays the same under this update id: retrying would not change it.
            raise ApplicationError(str(error.cause or error), type=STORM_REFUSED, non_retryable=True) from error
