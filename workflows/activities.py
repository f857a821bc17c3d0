"""The one activity: write an event and the case after it to the read model, idempotently."""

from __future__ import annotations

from typing import Protocol

from temporalio import activity

from states.case import CaseState, Event
from workflows.inputs import ProjectInput


class ProjectionStore(Protocol):
    async def project(self, case: CaseState, event: Event) -> None: ...


class CaseActivities:
    def __init__(self, store: ProjectionStore):
        self._store = store

    @activity.defn(name="project_case")
    async def project_case(self, input: ProjectInput) -> None:
        await self._store.project(input.case, input.event)
