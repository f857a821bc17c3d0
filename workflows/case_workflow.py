"""One entity workflow per case: the durable source of truth for its state and history."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from states.case import CaseState, Event, format_time, parse_time
    from states.errors import CaseRuleError
    from states.machine import CaseMachine
    from states.opening import open_case
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
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))


@workflow.defn(name="Case")
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseWorkflowInput) -> None:
        self._input = input
        self._machine = CaseMachine(input.snapshot) if input.snapshot else None
        self._events_this_run = 0

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseState | None:
        if self._machine is None:
            try:
                await workflow.wait_condition(lambda: self._machine is not None, timeout=REPORT_WAIT)
            except asyncio.TimeoutError:
                return None
        case = self._machine.case
        while True:
            if case.state == "closed":
                if await self._stays_closed_past_reopen_window(case):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    if case.state == "closed":
                        return case
            else:
                await workflow.wait_condition(lambda: case.state == "closed" or self._run_is_long())
            if self._run_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    CaseWorkflowInput(
                        case_id=input.case_id,
                        kind=input.kind,
                        reopen_window_seconds=input.reopen_window_seconds,
                        events_per_run=input.events_per_run,
                        snapshot=case,
                    )
                )

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

    async def _stays_closed_past_reopen_window(self, case: CaseState) -> bool:
        closed_for = workflow.now() - parse_time(case.closed_at or format_time(workflow.now()))
        remaining = timedelta(seconds=self._input.reopen_window_seconds) - closed_for
        try:
            await workflow.wait_condition(
                lambda: case.state != "closed" or self._run_is_long(),
                timeout=max(remaining, timedelta(seconds=1)),
            )
            return False
        except asyncio.TimeoutError:
            return True

    async def _project(self, event: Event) -> None:
        self._events_this_run += 1
        # A copy, because another update may change the case while this activity runs.
        await workflow.execute_activity_method(
            CaseActivities.project_case,
            ProjectInput(case=copy.deepcopy(self._machine.case), event=event),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )
