"""Reconcile: make the read model agree with the workflows, which are the source of truth.

For each case: events Temporal recorded that the read model lacks are written, and a case row older
than the workflow's state is replaced. Where the workflow projects fenced (a local activity, since
"project-locally"), a workflow task can have written and then failed: its case row ahead of the
workflow's state is replaced, and its events beyond that state are removed, by a write fenced above
every task of the history read (service/read_model.py). Other events that differ from Temporal's
record, or that Temporal never recorded, are reported and left alone: they are evidence for an
auditor, not ours to erase.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from service.audit import Audit
from service.last_projection import written_by_last_projection
from service.payload_codec import UnknownPayloadKey
from service.read_model import ReadModel
from service.tables import cases, events
from states.case import Actor, CaseState, Event
from states.verification import compare

log = logging.getLogger(__name__)

# A query waits for a worker of the case's task queue; a case whose worker is gone must not stall the rest.
QUERY_TIMEOUT = timedelta(seconds=10)
CONCURRENCY = 8
# Under SQLite's default limit of bound parameters in one statement.
IDS_PER_QUERY = 500


@dataclass
class Reconciliation:
    case_id: str
    events_added: list[int] = field(default_factory=list)
    # Written by a workflow task that failed after its projection, beyond what the workflow has.
    events_removed: list[int] = field(default_factory=list)
    case_row_updated: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.events_added or self.events_removed or self.case_row_updated)

    def describe(self) -> str:
        if not self.changed and not self.problems:
            return f"{self.case_id}: in agreement"
        said = []
        if self.events_added:
            said.append(f"added events {', '.join(map(str, self.events_added))}")
        if self.events_removed:
            said.append(f"removed events {', '.join(map(str, self.events_removed))} of a workflow task that failed")
        if self.case_row_updated:
            said.append("replaced the case row with the workflow's state")
        said += self.problems
        return f"{self.case_id}: " + "; ".join(said)


class Reconciler:
    def __init__(self, client: Client, read_model: ReadModel, query_timeout: timedelta = QUERY_TIMEOUT):
        self._client = client
        self._query_timeout = query_timeout
        self._read_model = read_model
        self._audit = Audit(client, read_model)

    async def case_ids(self) -> list[str]:
        """Every case the read model or Temporal knows."""
        known = set(await self._read_model.case_ids())
        async for execution in self._client.list_workflows('WorkflowType = "Case"'):
            known.add(execution.id)
        return sorted(known)

    async def case_ids_changed_since(self, moment: datetime) -> list[str]:
        """The cases that can have changed since `moment`: running workflows, and those closed since."""
        since = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = f'WorkflowType = "Case" AND (ExecutionStatus = "Running" OR CloseTime >= "{since}")'
        return sorted({execution.id async for execution in self._client.list_workflows(query)})

    async def fences_projected_since(self, moment: datetime) -> list[tuple[str, str | None]]:
        """The cases with an event projected since `moment` (a workflow task that failed after its
        projection wrote one too), each with its row's fence (None: no fence, or no row)."""
        recent = select(events.c.case_id).where(events.c.at >= moment).distinct().subquery()
        query = select(recent.c.case_id, cases.c.fence).select_from(recent.outerjoin(cases, cases.c.id == recent.c.case_id))
        async with self._read_model.engine.connect() as connection:
            return sorted((case_id, fence) for case_id, fence in await connection.execute(query))

    async def fences_of(self, case_ids: list[str]) -> list[tuple[str, str | None]]:
        """Each case with its row's fence (None: no fence, or no row)."""
        found: dict[str, str | None] = {}
        async with self._read_model.engine.connect() as connection:
            for start in range(0, len(case_ids), IDS_PER_QUERY):
                chunk = case_ids[start : start + IDS_PER_QUERY]
                rows = await connection.execute(select(cases.c.id, cases.c.fence).where(cases.c.id.in_(chunk)))
                found.update({case_id: fence for case_id, fence in rows})
        return [(case_id, found.get(case_id)) for case_id in case_ids]

    async def sweep(self, since: datetime) -> list[Reconciliation]:
        """Reconcile the cases projected since `since` whose read model disagrees with the workflow."""
        candidates = await self.fences_projected_since(since)
        in_doubt = await self.in_doubt(candidates)
        repaired = [result async for result in self.reconcile_many(in_doubt)]
        log.info("reconcile sweep: %d cases projected since %s, %d in doubt", len(candidates), since.isoformat(), len(in_doubt))
        return repaired

    async def in_doubt(self, candidates: Iterable[tuple[str, str | None]]) -> list[str]:
        """Those of the cases (each with its row's fence) whose read model may disagree with the workflow:
        most are shown to agree by the end of their history (service/last_projection.py), without a
        worker; the rest by a query."""
        found: list[str] = []

        async def check(remaining: Iterator[tuple[str, str | None]]) -> None:
            for case_id, fence in remaining:
                if not await self._written_by_last_projection(case_id, fence) and await self._disagrees(case_id):
                    found.append(case_id)

        remaining = iter(candidates)
        async with asyncio.TaskGroup() as checking:
            for _ in range(CONCURRENCY):
                checking.create_task(check(remaining))
        return sorted(found)

    async def _written_by_last_projection(self, case_id: str, fence: str | None) -> bool:
        try:
            return await written_by_last_projection(self._client, case_id, fence)
        except RPCError:
            return False  # undecided: the query says what is wrong

    async def _disagrees(self, case_id: str) -> bool:
        # The read model first: a change made after the query is then no disagreement.
        row = await self._read_model.get_case(case_id)
        last_seq = max((event["seq"] for event in await self._read_model.history(case_id)), default=None)
        try:
            snapshot = await self._client.get_workflow_handle(case_id).query("snapshot", result_type=CaseState, rpc_timeout=self._query_timeout)
        except (RPCError, WorkflowQueryFailedError):
            return True  # the reconciliation says what is wrong
        if row is None or snapshot is None:
            return True
        return (row["version"], row["updated_at"], last_seq) != (snapshot.version, snapshot.updated_at, snapshot.version)

    async def reconcile_recent(self, since: str) -> list[str]:
        """The sweep's activity (workflows/sweeps.py): what was repaired or is wrong, one line a case."""
        said = [result.describe() for result in await self.sweep(datetime.fromisoformat(since)) if result.changed or result.problems]
        for line in said:
            log.warning("reconcile sweep: %s", line)
        return said

    async def reconcile_many(self, case_ids: Iterable[str], concurrency: int = CONCURRENCY) -> AsyncGenerator[Reconciliation]:
        """Reconcile several cases at a time (each is a few round trips), yielding results in case order."""
        pending: deque[asyncio.Task[Reconciliation]] = deque()
        try:
            for case_id in case_ids:
                pending.append(asyncio.create_task(self.reconcile(case_id)))
                if len(pending) >= concurrency:
                    yield await pending.popleft()
            while pending:
                yield await pending.popleft()
        finally:
            for task in pending:
                task.cancel()

    async def reconcile(self, case_id: str) -> Reconciliation:
        result = Reconciliation(case_id)
        try:
            runs = await self._audit.runs(case_id)
        except UnknownPayloadKey as error:
            result.problems.append(f"could not read its history: {error}")
            return result
        if not runs:
            result.problems.append("no Temporal history (past retention?): nothing to compare with")
            return result
        projected = await self._audit.projected(runs)
        recorded, fence = projected.events, projected.fence
        try:
            snapshot = await self._client.get_workflow_handle(case_id).query("snapshot", result_type=CaseState, rpc_timeout=self._query_timeout)
        except (RPCError, WorkflowQueryFailedError) as error:
            result.problems.append(f"could not read the workflow's state: {error}")
            return result
        if snapshot is None:
            result.problems.append("the workflow never recorded a report")
            return result
        stored_version = await self._read_model.stored_version(case_id)
        stored = {event["seq"] for event in await self._read_model.history(case_id)}
        for event in recorded:
            if event["seq"] not in stored:
                await self._read_model.project(snapshot, _event(event), fence)
                result.events_added.append(event["seq"])
        # Unfenced, a row or an event ahead of the workflow's state is a change made since it was queried.
        ahead = fence is not None and max([stored_version or 0, *stored]) > snapshot.version
        if stored_version is None or stored_version < snapshot.version or ahead or await self._read_model.lacks_kpi_facts(case_id):
            await self._read_model.project(snapshot, _event(recorded[-1]), fence)
            result.case_row_updated = True
        if fence is not None:
            remaining = {event["seq"] for event in await self._read_model.history(case_id)}
            result.events_removed = sorted(stored - remaining)
        finding = compare(await self._read_model.history(case_id), recorded)
        if finding:
            result.problems.append(f"left alone: seq {finding.seq}: {finding.problem} ({finding.detail})")
        return result


def _event(recorded: dict) -> Event:
    return Event(**{**recorded, "actor": Actor(**recorded["actor"])})
