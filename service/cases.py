"""Use cases over cases: open, act, read. The API calls these; they call Temporal and the read model."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from service.kpis import Kpis
from service.observability import REJECTED, TRANSITIONS
from service.plan_measures import PlanMeasures
from service.read_model import CaseFilter, Page, ReadModel
from service.teams import Department, Membership
from states.case import Actor, CaseState, Report, case_fields, format_time
from states.clocks import sla_view
from states.ids import case_id as make_case_id
from states.machine import SPECS, declarations, declared_action
from states.opening import open_case
from states.sla_policy import DEFAULT_POLICY_DATA, parse_policy, policy_for_kind
from states.spec import TEAM, USER, Context, Field, Opens
from states.vocabulary import SYSTEM, Kind, Phase, Priority, RefusalCode, SystemAction
from workflows.activities import PROJECTION_REFUSED, Router
from workflows.case_workflow import CaseWorkflow
from workflows.inputs import CASE_CODE_VERSION, ActInput, CaseWorkflowInput, ReportInput
from workflows.search import CASE_KIND, CASE_PRIORITY, CASE_STATE
from workflows.write_ahead import READ_MODEL_BUSY

# An HTTP client should not wait forever when no worker runs; Temporal keeps the request meanwhile.
UPDATE_TIMEOUT_SECONDS = 60
# A change the read model did not take in time was rejected, nothing recorded (workflows/write_ahead.py):
# sent again after these pauses, then answered 503.
BUSY_PAUSES_SECONDS = (0.1, 0.3, 0.9)


class CaseNotFound(LookupError):
    def __init__(self, case_id: str):
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


class CaseRefused(Exception):
    """The case rules refused a request; `kind` is the rule (ActionNotAllowed, InvalidData, ...)."""

    def __init__(self, kind: str, message: str, details: dict[str, Any]):
        super().__init__(message)
        self.kind = kind
        self.details = details


class Unavailable(Exception):
    """Temporal did not answer in time; the request may or may not have been applied."""

    def __init__(self, message: str, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after


class _ReadModelBusy(Exception):
    pass


class _Stopping(Exception):
    """The server is stopping: no request waits on Temporal any longer."""


@dataclass(frozen=True)
class WorkflowConfig:
    """How the service starts each case's workflow (not to be confused with the service-level
    policy, `sla_policy`, which the workflow parses into states.sla_policy.ServiceLevelPolicy)."""

    task_queue: str
    reopen_window_seconds: int
    events_per_run: int
    sla_policy: dict[str, Any] | None = None
    escalation_window_seconds: float = 3600.0
    # The department's working calendar (states.sla_policy.department_calendar): a meeting's minutes
    # clock runs on it when the policy has no calendar; None: round the clock.
    meeting_calendar: dict[str, Any] | None = None


def new_case_id() -> str:
    return make_case_id(int(time.time() * 1000), int.from_bytes(os.urandom(10), "big"))


# What GET /cases/counts groups by: the read model's column, and every value in its order (owners
# are whoever holds cases: largest count first).
COUNT_GROUPS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "phase": ("state", tuple(Phase)),
    "owner": ("owner", None),
    "kind": ("kind", tuple(Kind)),
    "priority": ("priority", tuple(Priority)),
    "team": ("team", None),
}


@dataclass(frozen=True)
class Counts:
    group_by: str
    total: int
    items: list[tuple[str | None, int]]


@dataclass(frozen=True)
class People:
    """Who the case rules may name and how they act: the department's directory and teams, the users
    configured by CASEWORK_USERS, and whether the ownership rule is on (states/ownership.py)."""

    department: Department
    configured: frozenset[str] = frozenset()
    ownership: bool = True


class Cases:
    def __init__(self, client: Client, read_model: ReadModel, config: WorkflowConfig, people: People | None = None, router: Router | None = None):
        self._client = client
        self._read_model = read_model
        self._config = config
        self._people = people
        # Routes a new case before its report is sent, so the report's validator writes both at once
        # (workflows/write_ahead.py); without one, the worker routes the case after its report.
        self._router = router
        self._sla_policy = parse_policy(DEFAULT_POLICY_DATA if config.sla_policy is None else config.sla_policy)
        meetings = policy_for_kind(config.sla_policy, Kind.MEETING, config.meeting_calendar)
        self._meeting_policy = parse_policy(DEFAULT_POLICY_DATA if meetings is None else meetings)
        self._plan_measures = PlanMeasures(Kpis(read_model))
        self._stopping = asyncio.Event()

    def stop_waiting(self) -> None:
        """The server is stopping: answer every request still waiting on Temporal, and any later one, at once."""
        self._stopping.set()

    def view(self, case: CaseState | dict[str, Any]) -> dict[str, Any]:
        """A case as clients see it: its stored state plus its service levels as of now (sharing the
        case's values: a case an update returned, or a row read, is the caller's alone)."""
        snapshot = case_fields(case) if isinstance(case, CaseState) else dict(case)
        policy = self._meeting_policy if snapshot.get("kind") == Kind.MEETING else self._sla_policy
        snapshot["sla"] = sla_view(snapshot, policy, datetime.now(UTC))
        snapshot["sla_breached"] = any(clock["state"] == "breached" for clock in snapshot.get("clocks", {}).values()) or any(
            item.get("overdue") for item in snapshot.get("action_items", [])
        )
        return snapshot

    async def open(self, report: Report, actor: Actor, source_case_id: str | None, request_id: str, case_id: str | None = None) -> CaseState:
        if source_case_id is not None and await self._read_model.get_case(source_case_id) is None:
            raise CaseRefused("InvalidData", f"source_case_id: no case {source_case_id}", {"field": "source_case_id"})
        case_id = case_id or new_case_id()
        now = datetime.now(UTC)
        # Refuse a bad report here: update-with-start would start the workflow even if its update fails.
        machine, _ = open_case(case_id, report, actor, Context(now=format_time(now)))
        if self._people is not None and report.kind in SPECS:
            await self._check_people_named(SPECS[report.kind].report_fields, report.data or {})
        measured = await self._plan_measures.for_report(report, now)
        request = ReportInput(report=report, actor=actor, source_case_id=source_case_id, request_id=request_id, measured=measured)
        if self._router is not None:
            request = replace(request, routed=True, dispatch=await self._router.dispatch(machine.case))
        case = await self._when_taken(
            case_id,
            lambda: self._client.execute_update_with_start_workflow(
                CaseWorkflow.report, request, start_workflow_operation=self._start(case_id, report), id=request_id
            ),
        )
        TRANSITIONS.labels(case.kind, SystemAction.REPORT).inc()
        return case

    def _start(self, case_id: str, report: Report) -> WithStartWorkflowOperation:
        return WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseWorkflowInput(
                case_id=case_id,
                kind=report.kind,
                reopen_window_seconds=self._config.reopen_window_seconds,
                events_per_run=self._config.events_per_run,
                sla_policy=policy_for_kind(self._config.sla_policy, report.kind, self._config.meeting_calendar),
                escalation_window_seconds=self._config.escalation_window_seconds,
                code_version=CASE_CODE_VERSION,
            ),
            id=case_id,
            task_queue=self._config.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(CASE_KIND, report.kind),
                    SearchAttributePair(CASE_PRIORITY, report.priority),
                    SearchAttributePair(CASE_STATE, Phase.REPORT),
                ]
            ),
        )

    async def act(self, case_id: str, request: ActInput, membership: Membership | None = None) -> CaseState:
        """Take an action; the request's id is the update's id, so Temporal applies it at most once.
        `membership`: the actor's teams, where this request has read them already."""
        # Before the workflow sees it: the case named to join must be open, and KPI figures measured.
        # The case's kind is not known yet; an action of that name in any kind will do, the
        # workflow refuses it if the case's kind lacks it.
        declared = declarations(request.action)
        data = request.data or {}
        for opens in dict.fromkeys(action.opens for action in declared if action.opens and action.opens.may_join_open):
            if data.get(opens.id_field):
                await self._check_open(opens, str(data[opens.id_field]))
        if any(action.measures_since for action in declared):
            request = replace(request, measured=await self._measure_after(case_id, request.action))
        if self._people is not None:
            await self._check_people_named([field for action in declared for field in action.fields], data)
            if request.actor.name != SYSTEM:
                authority = await self._people.department.authority(request.actor.name, self._people.ownership, membership)
                request = replace(request, authority=authority)
        try:
            handle = self._client.get_workflow_handle(case_id)
            case = await self._when_taken(case_id, lambda: handle.execute_update(CaseWorkflow.act, request, id=request.request_id))
            TRANSITIONS.labels(case.kind, request.action).inc()
            return case
        except CaseNotFound:
            stored = await self._read_model.get_case(case_id)
            if stored is None:
                raise
            # Its workflow has ended: the case closed and its reopen window passed.
            raise CaseRefused(
                "ActionNotAllowed",
                f"case {case_id} is closed for good: its reopen window has passed",
                {"state": stored["state"], "allowed_actions": [], "action": request.action, "code": RefusalCode.CLOSED_FOR_GOOD},
            ) from None

    async def _when_taken(self, case_id: str, send: Callable[[], Awaitable[CaseState]]) -> CaseState:
        """The update, sent again (same id: a rejected update left nothing to deduplicate) while the
        read model is too busy to take its change."""
        for pause in BUSY_PAUSES_SECONDS:
            try:
                return await self._call(case_id, send())
            except _ReadModelBusy:
                await asyncio.sleep(pause)
        try:
            return await self._call(case_id, send())
        except _ReadModelBusy:
            raise Unavailable("the read model did not take the change in time; nothing was changed, so send it again", retry_after=1) from None

    async def get(self, case_id: str) -> dict[str, Any]:
        case = await self._read_model.get_case(case_id)
        if case is None:
            raise CaseNotFound(case_id)
        return self.view(case)

    async def find(self, where: CaseFilter, limit: int, cursor: str | None, sort: str = "created") -> Page:
        page = await self._read_model.list_cases(where, limit, cursor, sort)
        return Page([self.view(case) for case in page.items], page.next_cursor)

    async def count(self, where: CaseFilter, group_by: str) -> Counts:
        """The cases passing the filter, counted by phase, owner (None: unassigned), kind or priority;
        a phase, kind or priority without cases is counted as 0."""
        column, values = COUNT_GROUPS[group_by]
        found = await self._read_model.count_by(where, column)
        if values is None:
            items = sorted(found.items(), key=lambda item: (-item[1], item[0] is not None, item[0] or ""))
        else:
            items = [(value, found.get(value, 0)) for value in values]
        return Counts(group_by, sum(found.values()), items)

    async def history(self, case_id: str) -> list[dict[str, Any]]:
        events = await self._read_model.history(case_id)
        if not events:
            raise CaseNotFound(case_id)
        return events

    async def deliveries(self, case_id: str) -> list[dict[str, Any]]:
        await self.get(case_id)
        return await self._read_model.deliveries(case_id)

    async def _measure_after(self, case_id: str, action: str) -> dict[str, Any] | None:
        case = await self._read_model.get_case(case_id)
        declared = None if case is None else declared_action(case["kind"], action)
        if case is None or declared is None or declared.measures_since is None:
            return None
        history = await self._read_model.history(case_id)
        return await self._plan_measures.for_evaluate(case, history, declared.measures_since, datetime.now(UTC))

    async def _check_people_named(self, fields: Iterable[Field], data: dict[str, Any]) -> None:
        """A field naming a person (an owner) names an enabled user of the directory or of CASEWORK_USERS;
        one naming a team, a team of the department."""
        assert self._people is not None
        department = self._people.department
        named_fields = {field.name: field.names for field in fields if field.names in (USER, TEAM)}
        for name, names in named_fields.items():
            value = data.get(name)
            # A list of names (participants, attended): each one checked, the refusal naming its item.
            items = [(f"data.{name}[{index}]", item) for index, item in enumerate(value)] if isinstance(value, list) else [(f"data.{name}", value)]
            for path, named in items:
                if not isinstance(named, str) or not named or (names == USER and named in self._people.configured):
                    continue  # the case rules refuse a missing or malformed value themselves
                if names == TEAM:
                    problem = None if await department.team(named) is not None else "is no team of the department"
                else:
                    problem = await self.person_problem(named)
                if problem:
                    raise CaseRefused("InvalidData", f"{path}: {named!r} {problem}", {"field": path, "code": RefusalCode.INVALID_VALUE})

    async def knows(self, name: str) -> bool:
        """Whether `name` is a user, of the directory (enabled or not) or of CASEWORK_USERS."""
        if self._people is None or name in self._people.configured:
            return True
        return await self._people.department.is_enabled_user(name) is not None

    async def person_problem(self, name: str) -> str | None:
        """Why `name` may not be given cases (no user, or a disabled one), or None when they may."""
        if self._people is None or name in self._people.configured:
            return None
        enabled = await self._people.department.is_enabled_user(name)
        return None if enabled else "is disabled" if enabled is False else "is no user of the directory"

    async def _check_open(self, opens: Opens, other_id: str) -> None:
        """The case an action names to join is one of the kind it opens, and not closed."""
        field = f"data.{opens.id_field}"
        other = await self._read_model.get_case(other_id)
        if other is None or other["kind"] != opens.kind:
            raise CaseRefused("InvalidData", f"{field}: no {opens.kind} {other_id}", {"field": field})
        if other["state"] == Phase.CLOSED:
            raise CaseRefused("InvalidData", f"{field}: {opens.kind} {other_id} is closed", {"field": field})

    async def ping_temporal(self) -> None:
        await self._client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=2))

    async def ping_read_model(self) -> None:
        await self._read_model.ping()

    async def _call(self, case_id: str, update) -> CaseState:
        try:
            return await self._unless_stopping(update)
        except _Stopping:
            raise Unavailable(
                "the server is stopping; the change may still be applied, so read the case before retrying (with the same Idempotency-Key)",
                retry_after=5,
            ) from None
        except TimeoutError:
            raise Unavailable(
                f"no worker confirmed the change within {UPDATE_TIMEOUT_SECONDS}s; it may still be applied, so read the case before retrying"
            ) from None
        except WorkflowUpdateFailedError as error:
            if isinstance(error.cause, ApplicationError) and error.cause.type == READ_MODEL_BUSY:
                raise _ReadModelBusy() from None
            refusal = _refusal(case_id, error.cause)
            REJECTED.labels(getattr(refusal, "kind", "CaseNotFound")).inc()
            if isinstance(refusal, CaseRefused) and refusal.kind == PROJECTION_REFUSED:
                self._read_model.alarm.record(case_id, refusal.details.get("seq", 0), str(refusal))
            raise refusal from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise Unavailable("Temporal did not confirm the change in time; it may still be applied") from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(case_id) from None
            raise

    async def _unless_stopping(self, update):
        """Wait for Temporal's answer at most UPDATE_TIMEOUT_SECONDS, and not once the server is stopping."""
        answer = asyncio.ensure_future(update)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({answer, stopping}, timeout=UPDATE_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not answer.done():
                answer.cancel()
        if answer in done:
            return answer.result()
        if stopping in done:
            raise _Stopping()
        raise TimeoutError()


def _refusal(case_id: str, cause: BaseException | None) -> Exception:
    if isinstance(cause, ApplicationError) and cause.type:
        if cause.type == "CaseNotFound":
            return CaseNotFound(case_id)
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        return CaseRefused(cause.type, cause.message, details)
    return CaseRefused("Failed", str(cause or "the update failed"), {})
