"""The case's activities: write an event and the case after it to the read model, idempotently; and
route a new case (its team and agent), which reads the department's directory."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ActivityError, ApplicationError

from states.case import CaseState, Event
from workflows.inputs import Dispatch, DispatchInput, ProjectInput

# The type of the error a case's update fails with when the read model refuses its change for good.
PROJECTION_REFUSED = "ProjectionRefused"


# The activities that write an event: project_report writes a new case's report (and routes the case).
PROJECT_CASE, PROJECT_REPORT = "project_case", "project_report"
PROJECT_ACTIVITIES = (PROJECT_CASE, PROJECT_REPORT)

# Wider than any moment a workflow task can have: the reconciliation's writes win within its history length.
LAST_MOMENT = 10**16 - 1


def projection_fence(run_started: datetime, history_length: int, moment: datetime | int) -> str:
    """What orders the projections of one case: its run (a run continued as new starts after the last
    task of the one before), the length of the run's history when the workflow task began (later tasks
    see more events), and that task's moment (a retried task sees the same length: a transient task
    adds no events). Digits of fixed widths, so that the database compares it as the tuple it is."""
    now = moment if isinstance(moment, int) else micros(moment)
    return f"{micros(run_started):016d}{history_length:08d}{now:016d}"


def fence_task(fence: str) -> tuple[int, int]:
    """The workflow task a fence names: its history length when it began (the id of its started
    event) and its moment, in microseconds since the epoch."""
    return int(fence[16:24]), int(fence[24:])


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def refused_for_good(error: BaseException) -> bool:
    """Whether a projection failed because the read model refused its row for good. A regular activity's
    failure arrives wrapped in an ActivityError; a local activity's, as the activity raised it."""
    cause = error.cause if isinstance(error, ActivityError) else error
    return isinstance(cause, ApplicationError) and cause.type == PROJECTION_REFUSED and cause.non_retryable


class RowRefused(Exception):
    """The store can never write this event or case as it is: the same attempt fails every time."""


class StoreBusy(Exception):
    """The store did not take a write in the time it was given, or failed it for now."""


# How long an update's validator waits for its write (workflows/write_ahead.py): well inside the SDK's
# two seconds for an activation, beyond which it reports a deadlock.
AHEAD_WAIT_SECONDS = 1.0


class ProjectionStore(Protocol):
    async def project(self, case: CaseState, event: Event, fence: str | None = None) -> None: ...

    def project_ahead(self, case: CaseState, events: Sequence[Event], fence: str, loop: asyncio.AbstractEventLoop) -> None:
        """The same for one change's events (a report's may bring routing's), in one transaction, from a
        thread other than `loop`'s (workflows/write_ahead.py): done within AHEAD_WAIT_SECONDS or not at
        all; raises RowRefused, or StoreBusy."""
        ...


class Router(Protocol):
    async def dispatch(self, case: CaseState) -> Dispatch | None: ...


class CaseActivities:
    def __init__(self, store: ProjectionStore, router: Router | None = None):
        self._store = store
        self._router = router

    @activity.defn(name="dispatch_case")
    async def dispatch_case(self, input: DispatchInput) -> Dispatch | None:
        """Where routing sends the new case; None: no routing here (a worker without a directory)."""
        return None if self._router is None else await self._router.dispatch(input.case)

    @activity.defn(name=PROJECT_REPORT)
    async def project_report(self, input: ProjectInput) -> Dispatch | None:
        """A new case's report written, then the case routed: one local activity for both since v10."""
        await self.project_case(input)
        return await self.dispatch_case(DispatchInput(input.case))

    @activity.defn(name=PROJECT_CASE)
    async def project_case(self, input: ProjectInput) -> None:
        try:
            await self._store.project(input.case, input.event, input.fence)
        except RowRefused as refused:
            # An event the workflow can take back fails its update at once; any other keeps being retried
            # (with the alarm raised on each attempt) until an operator repairs the store or the case.
            raise ApplicationError(
                f"the read model cannot store event {input.event.seq} of case {input.case.id}: {refused}",
                type=PROJECTION_REFUSED,
                non_retryable=not input.retry_refused,
            ) from None
