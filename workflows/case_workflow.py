"""One entity workflow per case: the durable source of truth for its state and history."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from states import clocks
    from states.case import CaseState, Event, format_time, parse_time
    from states.errors import CaseRuleError
    from states.machine import CaseMachine
    from states.opening import open_case
    from states.sla_policy import DEFAULT_POLICY_DATA, parse_policy
    from states.spec import Context
    from workflows.activities import CaseActivities
    from workflows.errors import case_missing, rule_error
    from workflows.inputs import ActInput, CaseWorkflowInput, LinkInput, ProjectInput, ReportInput

CASE_KIND = SearchAttributeKey.for_keyword("CaseKind")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")
CASE_PRIORITY = SearchAttributeKey.for_keyword("CasePriority")
SEARCH_ATTRIBUTES = (CASE_KIND, CASE_STATE, CASE_PRIORITY)

# Update-with-start starts the workflow even when the report is refused; such a run ends by itself.
REPORT_WAIT = timedelta(minutes=5)
MIN_TIMER = timedelta(milliseconds=10)
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseWorkflowInput) -> None:
        self._input = input
        self._policy = parse_policy(DEFAULT_POLICY_DATA if input.sla_policy is None else input.sla_policy)
        self._machine = CaseMachine(input.snapshot) if input.snapshot else None
        self._events_this_run = 0
        self._changed = False

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseState | None:
        if self._machine is None:
            try:
                await workflow.wait_condition(lambda: self._machine is not None, timeout=REPORT_WAIT)
            except asyncio.TimeoutError:
                return None
        case = self._machine.case
        while True:
            self._changed = False
            wake_at = self._next_wake(case)
            try:
                # Durable timers: they fire even when the worker or the server was down at the moment.
                await workflow.wait_condition(lambda: self._changed or self._run_is_long(), timeout=self._until(wake_at))
            except asyncio.TimeoutError:
                pass
            if self._run_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    CaseWorkflowInput(
                        case_id=input.case_id,
                        kind=input.kind,
                        reopen_window_seconds=input.reopen_window_seconds,
                        events_per_run=input.events_per_run,
                        sla_policy=input.sla_policy,
                        snapshot=case,
                    )
                )
            await self._fire_due_timers()
            if self._reopen_window_passed(case):
                await workflow.wait_condition(workflow.all_handlers_finished)
                if self._reopen_window_passed(case):
                    return case

    @workflow.update
    async def report(self, input: ReportInput) -> CaseState:
        if self._machine is not None:
            raise ApplicationError("this case is already reported", type="AlreadyReported", non_retryable=True)
        try:
            machine, event = open_case(self._input.case_id, input.report, input.actor, self._context(input.request_id))
        except CaseRuleError as error:
            raise rule_error(error) from None
        if input.source_case_id:
            machine.case.links.append({"case_id": input.source_case_id, "relation": "source"})
        self._machine = machine
        clocks.start_cycle(machine.case, self._policy, event.at)
        workflow.upsert_search_attributes([CASE_STATE.value_set(machine.case.state)])
        await self._project(event)
        if input.source_case_id:
            await self._link_back(input.source_case_id, input.actor, input.request_id)
        return machine.case

    @report.validator
    def validate_report(self, input: ReportInput) -> None:
        if self._machine is not None:
            raise ApplicationError("this case is already reported", type="AlreadyReported")
        try:
            open_case(self._input.case_id, input.report, input.actor, self._context(input.request_id))
        except CaseRuleError as error:
            raise rule_error(error) from None

    @workflow.update
    async def act(self, input: ActInput) -> CaseState:
        machine = self._reported_machine()
        before = machine.case.state
        try:
            # Concurrent updates validated in one batch are checked again here, before any await.
            context = self._context(input.request_id)
            event = machine.take(input.action, input.actor, input.data, input.note, context, input.expected_version)
        except CaseRuleError as error:
            raise rule_error(error) from None
        clocks.after_event(machine.case, event, self._policy)
        if machine.case.state != before:
            workflow.upsert_search_attributes([CASE_STATE.value_set(machine.case.state)])
        await self._project(event)
        return machine.case

    @act.validator
    def validate_act(self, input: ActInput) -> None:
        machine = self._reported_machine()
        try:
            machine.check(input.action, input.actor.role or "", input.data, self._context(), input.expected_version)
        except CaseRuleError as error:
            raise rule_error(error) from None

    @workflow.signal
    async def link(self, input: LinkInput) -> None:
        await workflow.wait_condition(lambda: self._machine is not None)
        await self._project(self._machine.link(input.case_id, input.relation, input.actor, self._context(input.request_id)))

    @workflow.query
    def snapshot(self) -> CaseState | None:
        return self._machine.case if self._machine else None

    async def _link_back(self, source_case_id: str, actor, request_id: str | None) -> None:
        source = workflow.get_external_workflow_handle(source_case_id)
        try:
            await source.signal(CaseWorkflow.link, LinkInput(self._input.case_id, "derived", actor, request_id))
        except ApplicationError as error:
            # The source's run has ended (past its reopen window): its own link is lost, ours stays.
            workflow.logger.warning("could not link back to %s: %s", source_case_id, error)

    def _reported_machine(self) -> CaseMachine:
        if self._machine is None:
            raise case_missing(self._input.case_id)
        return self._machine

    def _context(self, request_id: str | None = None) -> Context:
        return Context(format_time(workflow.now()), self._input.reopen_window_seconds, request_id)

    def _run_is_long(self) -> bool:
        return self._events_this_run >= self._input.events_per_run or workflow.info().is_continue_as_new_suggested()

    def _next_wake(self, case: CaseState) -> datetime | None:
        moments = [moment for moment in (clocks.next_due(case), self._reopen_window_end(case)) if moment]
        return min(moments) if moments else None

    def _until(self, moment: datetime | None) -> timedelta | None:
        if moment is None:
            return None
        return max(moment - workflow.now(), MIN_TIMER)

    def _reopen_window_end(self, case: CaseState) -> datetime | None:
        if case.state != "closed" or case.closed_at is None:
            return None
        return parse_time(case.closed_at) + timedelta(seconds=self._input.reopen_window_seconds)

    def _reopen_window_passed(self, case: CaseState) -> bool:
        end = self._reopen_window_end(case)
        return end is not None and workflow.now() >= end

    async def _fire_due_timers(self) -> None:
        now = format_time(workflow.now())
        for action, data in clocks.fire(self._machine.case, now):
            await self._project(self._machine.record_system(action, data, self._context()))

    async def _project(self, event: Event) -> None:
        self._events_this_run += 1
        self._changed = True  # the run loop recomputes when its timers are due
        # A copy, because another update may change the case while this activity runs.
        await workflow.execute_activity_method(
            CaseActivities.project_case,
            ProjectInput(case=copy.deepcopy(self._machine.case), event=event),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )
