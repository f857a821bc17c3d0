"""One entity workflow per case: the durable source of truth for its state and history."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from states import clocks
    from states.case import Actor, Authority, CaseState, Event, copy_case, format_time, parse_time
    from states.errors import CaseRuleError
    from states.machine import SPECS, CaseMachine, notifies
    from states.notification_rules import NAMING_MESSAGES, event_message, meeting_people
    from states.opening import open_case
    from states.sla_policy import DEFAULT_POLICY_DATA, parse_policy
    from states.spec import Action, Context, Opens
    from states.text import check_storable
    from states.vocabulary import SYSTEM, Phase, Relation, Role, SystemAction
    from workflows import follow_ons, storms
    from workflows.activities import PROJECTION_REFUSED, CaseActivities, projection_fence, refused_for_good
    from workflows.errors import case_missing, rule_error
    from workflows.inputs import (
        CASE_CODE_VERSION,
        ActInput,
        CaseWorkflowInput,
        Dispatch,
        DispatchInput,
        JoinedStorm,
        JoinStormInput,
        LinkInput,
        NoticeInput,
        NotificationInput,
        ProjectInput,
        ReportInput,
    )
    from workflows.messages import ANNOUNCE_RETRY, AnnounceInput, MessageActivities, start_in_background
    from workflows.notifications import Notifier
    from workflows.search import CASE_STATE
    from workflows.storms import STORM_REFUSED, StormActivities, storm_cause
    from workflows.write_ahead import Ahead, adopt_or_open, adopt_or_take, begin_case, dispatched, open_ahead, take_ahead

# Update-with-start starts the workflow even when the report is refused; such a run ends by itself.
REPORT_WAIT = timedelta(minutes=5)
MIN_TIMER = timedelta(milliseconds=10)
# Since v2 the run loop keeps its wake-up timer across changes that leave the wake-up moment as it
# was, instead of cancelling and starting it again on every change (two history events each).
KEEP_TIMER_PATCH = "keep-the-wake-up-timer"
# Since v3 a notification goes out once its event is in the read model: an event the read model
# refused for good is taken back, and must not have been announced.
NOTIFY_AFTER_PROJECTION_PATCH = "notify-after-projection"
# Since v6 an event's message (states/notification_rules.py) is announced to the people the rules
# name (inbox, then a MessageDelivery workflow per message over the channels) in place of the one
# webhook delivery per event: the case waits for the announcement, never for a channel.
ANNOUNCE_PATCH = "announce-messages"
# Since v4 a new case is routed (its team and agent) right after its report is recorded.
DISPATCH_PATCH = "dispatch-new-cases"
# Since v5 action items warn when their deadline nears, and a breach's automatic escalation joins the
# incident opened for the same cause (workflows/storms.py).
DUE_SOON_PATCH = "action-items-due-soon"
STORM_CONTROL_PATCH = "escalation-storm-control"
# Since v7 a VIP customer's breach escalates only when the policy's auto_escalate lists `vip`; before,
# VIPs escalated whatever the policy said, and histories recorded so keep that rule on replay.
VIP_BY_POLICY_PATCH = "vip-escalation-by-policy"
# Since v7, when the case moved on while its storm was asked and the storm opened an incident for it
# (linked to the case), the case records the link back instead of leaving the incident one-sided.
STORM_MOVED_ON_PATCH = "storm-incident-linked-back"
# Since v7 a breach that joined an incident storm control had already opened tells nobody: the
# opening already told them (one escalated/emergency_raised pair per storm, not one per breach).
STORM_JOINER_QUIET_PATCH = "storm-joiners-tell-nobody"
# Since fixinbox the people an event names (set_attendees, add_action_item) are told: a history
# that took these actions before had no announce for them, and replays without one.
NAMING_PATCH = "announce-the-named"
# Since v8 the read model is written by a local activity inside the workflow task that took the event,
# fenced (service/read_model.py), in place of a regular activity: one workflow task per change, not two.
PROJECT_LOCALLY_PATCH = "project-locally"
# Since v9 one marker stands for every patch above: the SDK records a marker and upserts the
# `TemporalChangeVersion` search attribute (a write to Temporal's visibility store) the first time a run
# checks each patch, seven at every opening. A run begun from v9 on checks this one alone (`_since`).
# Also since v9, Temporal's `CaseState` changes only when a case closes or reopens: an upsert per change
# of phase cost the server about a quarter of its CPU per transition (docs/benchmarks.md); the read model has
# the phase. The start sets it to `report`, so the opening no longer upserts it either. And since v9 a
# new case is routed by a local activity (`_dispatch`).
V9_PATCH = "v9-one-marker"
# Since v10 a run knows the code it began on from its input (`code_version`, set by whoever starts or
# continues it), not from a patch marker: a new case's run records no marker and makes no visibility
# write for one. And since v10 a new case's report is written and the case routed by one local
# activity (`project_report`), not one each.
V10 = 10
# Since v11 a change that opens no case is written to the read model by its update's validator, before
# Temporal accepts it, in place of a local activity after it (workflows/write_ahead.py).
V11 = 11
# Since v12 a new case's report, and routing's decision with it, is written by the report's validator
# where the service routed the case before reporting it (ReportInput.routed): a new case takes no local
# activity at all.
V12 = 12
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
# Webhook receivers go down for a while; keep trying for about a day, then give up and say so.
NOTIFICATION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=10), maximum_attempts=150)


@workflow.defn(name=follow_ons.CASE_WORKFLOW)
class CaseWorkflow:
    @workflow.init
    def __init__(self, input: CaseWorkflowInput) -> None:
        self._input = input
        self._sla_policy = parse_policy(DEFAULT_POLICY_DATA if input.sla_policy is None else input.sla_policy)
        self._machine = CaseMachine(input.snapshot) if input.snapshot else None
        self._events_this_run = 0
        self._changed = False
        # The report's event was refused by the read model for good: the case was never opened.
        self._abandoned = False
        self._notifications: set[asyncio.Future] = set()
        # Whether action items warn before their deadline (DUE_SOON_PATCH).
        self._due_soon = False
        # The change the running update's validator took ahead (since v11), for the worker to write.
        self._ahead: Ahead | None = None
        # The case the running report's validator opened (its update id, the machine, the event).
        self._opened_ahead: tuple[str, CaseMachine, Event] | None = None
        # Told of each change written ahead, replays included: how an audit sees them (service/recorded.py).
        self.on_written_ahead: Callable[[Event], None] | None = None

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseState | None:
        if self._machine is None and input.opening is not None:
            await self._open(input.opening)
        if self._machine is None:
            try:
                await workflow.wait_condition(lambda: self._machine is not None, timeout=REPORT_WAIT)
            except TimeoutError:
                return None
        if self._abandoned:
            await self._settle()
            return None
        case = self._opened.case
        keeps_timer = self._since(KEEP_TIMER_PATCH)
        self._due_soon = self._since(DUE_SOON_PATCH)
        while True:
            self._changed = False
            wake_at = self._next_wake(case)
            try:
                # Durable timers: they fire even when the worker or the server was down at the moment.
                await workflow.wait_condition(functools.partial(self._woken, case, wake_at, keeps_timer), timeout=self._until(wake_at))
            except TimeoutError:
                pass
            if self._abandoned:
                await self._settle()
                return None
            if self._run_is_long():
                await self._settle()
                workflow.continue_as_new(
                    CaseWorkflowInput(
                        case_id=input.case_id,
                        kind=input.kind,
                        reopen_window_seconds=input.reopen_window_seconds,
                        events_per_run=input.events_per_run,
                        sla_policy=input.sla_policy,
                        escalation_window_seconds=input.escalation_window_seconds,
                        snapshot=case,
                        storm_cause=input.storm_cause,
                        code_version=CASE_CODE_VERSION,
                    )
                )
            await self._fire_due_timers()
            if self._reopen_window_passed(case):
                await self._settle()
                if self._reopen_window_passed(case):
                    return case

    @workflow.update
    async def report(self, input: ReportInput) -> CaseState:
        if self._machine is not None:
            raise ApplicationError("this case is already reported", type="AlreadyReported", non_retryable=True)
        return await self._open(input, undoable=True)

    @report.validator
    def validate_report(self, input: ReportInput) -> None:
        if self._abandoned:
            raise ApplicationError("the read model refused this case's report; report it again", type=PROJECTION_REFUSED)
        if self._machine is not None:
            raise ApplicationError("this case is already reported", type="AlreadyReported")
        self._ahead = None
        ctx = self._context(input.request_id, input.measured)
        try:
            if self._reports_ahead(input):
                self._ahead = open_ahead(self._input.case_id, input, ctx, self._context(input.request_id), self._sla_policy)
                return
            machine, event = open_case(self._input.case_id, input.report, input.actor, ctx)
        except CaseRuleError as error:
            raise rule_error(error) from None
        update = workflow.current_update_info()
        self._opened_ahead = None if update is None else (update.id, machine, event)

    @workflow.update
    async def act(self, input: ActInput) -> CaseState:
        machine = self._reported_machine()
        if self._writes_ahead(input.action):
            return await self._act_written_ahead(machine, input)
        data = dict(input.data or {})
        opened = self._opens_a_case(input.action, data)
        # To take the event back if the read model refuses it for good (a copy costs less than a round trip).
        before = copy_case(machine.case)
        try:
            # Concurrent updates validated in one batch are checked again here, before any await.
            ctx = self._context(input.request_id, input.measured, input.authority)
            event = machine.take(input.action, input.actor, data, input.note, ctx, input.expected_version)
        except CaseRuleError as error:
            raise rule_error(error) from None
        try:
            await self._record(event, retry_refused=False)
        except (ActivityError, ApplicationError) as error:
            if not refused_for_good(error):
                raise
            if machine.case.version == event.seq:
                raise self._take_back(before, event) from None
            # Another update took an event on top of this one while its write was under way: undoing this
            # one would undo that one too. Its write is retried like a timer's, until the store takes it.
            workflow.logger.error("case %s: the read model refused event %s after later events were taken; retrying it", machine.case.id, event.seq)
            await self._write(event, retry_refused=True)
        await self._follow_on(event, opened)
        return machine.case

    @act.validator
    def validate_act(self, input: ActInput) -> None:
        machine = self._reported_machine()
        self._ahead = None
        try:
            check_storable(input.note, "note")
            check_storable(input.data, "data")
            if self._writes_ahead(input.action):
                ctx = self._context(input.request_id, input.measured, input.authority)
                self._ahead = take_ahead(machine, input, ctx, self._sla_policy)
            else:
                machine.check(input.action, input.actor.role or "", input.data, self._context(authority=input.authority), input.expected_version)
        except CaseRuleError as error:
            raise rule_error(error) from None

    def taken_ahead(self, update_id: str) -> Ahead | None:
        """The change this update's validator took ahead, for the worker to write (workflows/write_ahead.py)."""
        ahead = self._ahead
        return ahead if ahead is not None and ahead.update_id == update_id else None

    def _reports_ahead(self, input: ReportInput) -> bool:
        """Whether the report is written by its validator: since v12, where the service routed the case."""
        return self._input.code_version >= V12 and input.routed

    def _writes_ahead(self, action: str) -> bool:
        """Whether the action's change is written by its validator: since v11, unless it opens a case
        (whose id the handler draws from the workflow's random, which a validator must not touch)."""
        declared = self._declared(action)
        return self._input.code_version >= V11 and declared is not None and declared.opens is None

    async def _act_written_ahead(self, machine: CaseMachine, input: ActInput) -> CaseState:
        """The change its validator took and the worker wrote (in a replay, taken again)."""
        ahead, self._ahead = self._ahead, None
        try:
            event = adopt_or_take(machine, ahead, input, self._context(input.request_id, input.measured, input.authority), self._sla_policy)
        except CaseRuleError as error:
            raise rule_error(error) from None
        if self.on_written_ahead is not None:
            self.on_written_ahead(event)
        await self._record(event, written=True)
        await self._follow_on(event, opened=False)
        return machine.case

    @workflow.signal(name=follow_ons.LINK_SIGNAL)
    async def link(self, input: LinkInput) -> None:
        await workflow.wait_condition(lambda: self._machine is not None)
        await self._record(self._opened.link(input.case_id, input.relation, input.actor, self._context(input.request_id)))

    @workflow.signal(name=follow_ons.NOTICE_SIGNAL)
    async def notice(self, input: NoticeInput) -> None:
        await workflow.wait_condition(lambda: self._machine is not None)
        await self._record(self._opened.record_notice(input.action, input.data, self._context(input.request_id), input.actor))

    @workflow.query
    def snapshot(self) -> CaseState | None:
        return None if self._machine is None else self._machine.case

    async def _open(self, input: ReportInput, undoable: bool = False) -> CaseState:
        if self._reports_ahead(input):
            return await self._open_written_ahead(input)
        try:
            machine, event = self._opening(input)
        except CaseRuleError as error:
            raise rule_error(error) from None
        begin_case(machine, event, input, self._sla_policy)
        self._machine = machine
        if not self._v9():
            workflow.upsert_search_attributes([CASE_STATE.value_set(machine.case.state)])
        routes_with_report = self._v10()
        try:
            decision = await self._project(event, retry_refused=not undoable, route=routes_with_report)
        except (ActivityError, ApplicationError) as error:
            if not refused_for_good(error):
                raise
            # The run ends: the case was never opened, and a new report of it starts afresh.
            self._abandoned = True
            raise ApplicationError(
                "the read model refused this case's report for good; nothing was opened (see the server's log)",
                {"case_id": self._input.case_id},
                type=PROJECTION_REFUSED,
                non_retryable=True,
            ) from None
        if routes_with_report:
            if decision is not None:
                await self._record_dispatch(decision, input.request_id)
        elif self._since(DISPATCH_PATCH):
            await self._dispatch(input.request_id)
        await self._link_back(input)
        return machine.case

    async def _open_written_ahead(self, input: ReportInput) -> CaseState:
        """The routed case its validator opened and the worker wrote (in a replay, opened again)."""
        ahead, self._ahead = self._ahead, None
        ctx, dispatch_ctx = self._context(input.request_id, input.measured), self._context(input.request_id)
        try:
            machine, events, self._sla_policy = adopt_or_open(ahead, self._input.case_id, input, ctx, dispatch_ctx, self._sla_policy)
        except CaseRuleError as error:
            raise rule_error(error) from None
        if input.dispatch is not None and input.dispatch.sla_policy is not None:
            self._input.sla_policy = input.dispatch.sla_policy  # and after continue-as-new
        self._machine = machine
        for event in events:
            if self.on_written_ahead is not None:
                self.on_written_ahead(event)
            await self._record(event, written=True)
        await self._link_back(input)
        return machine.case

    async def _link_back(self, input: ReportInput) -> None:
        if input.source_case_id and input.link_back:
            await follow_ons.link(input.source_case_id, LinkInput(self._input.case_id, Relation.DERIVED, input.actor, input.request_id))

    def _opening(self, input: ReportInput) -> tuple[CaseMachine, Event]:
        """The case as the report's validator opened it (the same rules, input and moment: the handler
        runs right after it), else opened now: in a replay, which runs no validator, or by another case."""
        ahead, self._opened_ahead = self._opened_ahead, None
        update = workflow.current_update_info()
        if ahead is not None and update is not None and ahead[0] == update.id:
            return ahead[1], ahead[2]
        return open_case(self._input.case_id, input.report, input.actor, self._context(input.request_id, input.measured))

    async def _dispatch(self, request_id: str | None) -> None:
        """Route the new case (before v10): since v9 by a local activity in the workflow task of the
        report, not by an activity task and a second one."""
        execute = workflow.execute_local_activity_method if self._v9() else workflow.execute_activity_method
        decision = await execute(
            CaseActivities.dispatch_case,
            DispatchInput(case=self._opened.case),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )
        if decision is not None:
            await self._record_dispatch(decision, request_id)

    async def _record_dispatch(self, decision: Dispatch, request_id: str | None) -> None:
        """Routing's decision, an event of its own, by the system."""
        event, self._sla_policy = dispatched(self._opened, decision, self._sla_policy, self._context(request_id))
        if decision.sla_policy is not None:
            self._input.sla_policy = decision.sla_policy  # and after continue-as-new
        await self._record(event)

    def _declared(self, action: str) -> Action | None:
        return self._reported_machine().spec.by_name.get(action)

    def _opens_a_case(self, action: str, data: dict) -> bool:
        """Name the case an action will open before taking it, so its event records the id."""
        declared = self._declared(action)
        opens = declared.opens if declared else None
        if opens is None or (opens.may_join_open and data.get(opens.id_field)):
            return False
        data[opens.id_field] = follow_ons.new_case_id()
        return True

    async def _follow_on(self, event: Event, opened: bool) -> None:
        """What the action does to other cases, as its declaration says: open one, join one, tell them."""
        case, data, declared = self._opened.case, event.data, self._declared(event.action)
        if declared is None:
            return
        if declared.opens and opened:
            opens = declared.opens
            report = opens.report(case, data)
            await follow_ons.open_linked_case(self._input, data[opens.id_field], report, event.actor, opens.back, event.request_id)
        elif declared.opens:
            link = LinkInput(case.id, declared.opens.back, event.actor, event.request_id)
            await follow_ons.link(data[declared.opens.id_field], link)
        elif declared.tells:
            await follow_ons.tell_linked_cases(case, event, declared.tells)

    async def _record(self, event: Event, retry_refused: bool = True, quiet: bool = False, written: bool = False) -> None:
        """After the machine took an event: clocks, search attributes, read model, notifications
        (`quiet`: the event's message goes to nobody; `written`: its clocks and its write were done
        ahead, by its update's validator). An incident storm control opened tells its storm when it
        closes, so later breaches of the cause open a new one."""
        if not written:
            clocks.after_event(self._opened.case, event, self._sla_policy)
        if self._searched(event):
            workflow.upsert_search_attributes([CASE_STATE.value_set(event.to_state)])
        await self._project(event, retry_refused, quiet, written=written)
        if event.to_state == Phase.CLOSED != event.from_state and self._input.storm_cause:
            await storms.tell_closed(self._input.storm_cause, self._opened.case.id)

    def _searched(self, event: Event) -> bool:
        """Whether the event's change of phase is written to Temporal's `CaseState`."""
        if event.from_state == event.to_state:
            return False
        return Phase.CLOSED in (event.from_state, event.to_state) or not self._v9()

    def _take_back(self, before: CaseState, event: Event) -> ApplicationError:
        """The read model refused an update's event for good, and it is the latest: undo it, so the case
        stays as it was, usable, and the read model's events stay gapless; the update fails with this."""
        machine = self._opened
        machine.restore(before)
        if self._searched(event):
            workflow.upsert_search_attributes([CASE_STATE.value_set(before.state)])
        return ApplicationError(
            "the read model refused this change for good; the case is as it was (see the server's log)",
            {"case_id": machine.case.id, "seq": event.seq},
            type=PROJECTION_REFUSED,
            non_retryable=True,
        )

    async def _fire_due_timers(self) -> None:
        case = self._opened.case
        for action, data in clocks.fire(case, format_time(workflow.now()), self._due_soon_share()):
            await self._project(self._opened.record_notice(action, data, self._context()))
            if action != SystemAction.SLA_BREACHED:
                continue
            taken = clocks.taken_on_breach(case, self._sla_policy, data["target"], self._vip_by_policy(case))
            if taken and taken in case.allowed_actions.get(Role.SUPERVISOR, []):
                await self._take_by_itself(taken, data)

    def _vip_by_policy(self, case: CaseState) -> bool:
        """Which VIP rule decides this breach: the marker is asked for only where the rules differ."""
        return not clocks.vip_rule_matters(case, self._sla_policy) or self._since(VIP_BY_POLICY_PATCH)

    async def _take_by_itself(self, action: str, breach: dict) -> None:
        data = {"reason": f"{breach['target']} target breached at {breach['deadline']} ({breach['cause']['policy']})"}
        declared = self._declared(action)
        opens = declared.opens if declared else None
        joined = None
        if opens is not None and opens.may_join_open and self._since(STORM_CONTROL_PATCH):
            joined = await self._join_storm(opens, data)
            if action not in self._opened.case.allowed_actions.get(Role.SUPERVISOR, []):
                # The case moved on while the storm was asked. An incident opened for it links to it:
                # the case links back, so the meeting is not one-sided (one it would join is left alone).
                if joined is not None and joined.opened and self._since(STORM_MOVED_ON_PATCH):
                    await self._record(self._opened.link(joined.incident_id, opens.relation, Actor(SYSTEM), self._context()))
                return
        opened = False if joined is not None else self._opens_a_case(action, data)
        event = self._opened.take(action, Actor(SYSTEM), data, None, self._context())
        quiet = joined is not None and not joined.opened and self._since(STORM_JOINER_QUIET_PATCH)
        await self._record(event, quiet=quiet)
        if joined is None or not joined.opened:
            await self._follow_on(event, opened)

    async def _join_storm(self, opens: Opens, data: dict) -> JoinedStorm | None:
        """Storm control: the incident of this breach's cause, opened for this case or to be joined;
        None where the storm could not open one (the case then opens its own)."""
        case = self._opened.case
        join = JoinStormInput(
            cause=storm_cause(case),
            case_id=case.id,
            report=opens.report(case, data),
            window_seconds=self._input.escalation_window_seconds,
            reopen_window_seconds=self._input.reopen_window_seconds,
            events_per_run=self._input.events_per_run,
            sla_policy=self._input.sla_policy,
            request_id=f"{case.id}:storm:{case.sla_cycle}:{case.version}",
        )
        try:
            joined = await workflow.execute_activity_method(
                StormActivities.join_escalation_storm,
                join,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PROJECTION_RETRY,
            )
        except ActivityError as error:
            if not (isinstance(error.cause, ApplicationError) and error.cause.type == STORM_REFUSED):
                raise
            workflow.logger.error("case %s: storm control could not open an incident (%s); opening its own", case.id, error.cause)
            return None
        data[opens.id_field] = joined.incident_id
        return joined

    def _woken(self, case: CaseState, wake_at: datetime | None, keeps_timer: bool) -> bool:
        """Whether the run loop must look again before its timer fires: the run grew long, or the
        wake-up moment moved (before v2: any change at all), or the case was never opened after all."""
        if self._abandoned or self._run_is_long():
            return True
        return self._next_wake(case) != wake_at if keeps_timer else self._changed

    def _next_wake(self, case: CaseState) -> datetime | None:
        moments = [moment for moment in (clocks.next_due(case, self._due_soon_share()), self._reopen_window_end(case)) if moment]
        return min(moments) if moments else None

    def _due_soon_share(self) -> float | None:
        """The policy's warn_at, where action items warn before their deadline; None before v5."""
        return self._sla_policy.warn_at if self._due_soon else None

    def _until(self, moment: datetime | None) -> timedelta | None:
        return None if moment is None else max(moment - workflow.now(), MIN_TIMER)

    def _reopen_window_end(self, case: CaseState) -> datetime | None:
        if case.state != Phase.CLOSED or case.closed_at is None:
            return None
        return parse_time(case.closed_at) + timedelta(seconds=self._input.reopen_window_seconds)

    def _reopen_window_passed(self, case: CaseState) -> bool:
        end = self._reopen_window_end(case)
        return end is not None and workflow.now() >= end

    def _v10(self) -> bool:
        """Whether this run began on v10 or later code, as its input says."""
        return self._input.code_version >= V10

    def _v9(self) -> bool:
        """Whether this run began on v9 or later code (a run of earlier code replays its own patches)."""
        return self._v10() or workflow.patched(V9_PATCH)

    def _since(self, patch: str) -> bool:
        """Whether this run takes the code `patch` brought: a run begun on v9 or later takes every such code."""
        return self._v9() or workflow.patched(patch)

    @property
    def _opened(self) -> CaseMachine:
        """The machine, where the case is known to have been reported."""
        assert self._machine is not None, "the case is reported"
        return self._machine

    def _reported_machine(self) -> CaseMachine:
        if self._machine is None or self._abandoned:
            raise case_missing(self._input.case_id)
        return self._machine

    def _context(self, request_id: str | None = None, measured: dict | None = None, authority: Authority | None = None) -> Context:
        return Context(format_time(workflow.now()), self._input.reopen_window_seconds, request_id, measured, authority)

    def _run_is_long(self) -> bool:
        return self._events_this_run >= self._input.events_per_run or workflow.info().is_continue_as_new_suggested()

    async def _settle(self) -> None:
        """Before this run ends: every handler done, every notification delivered or given up."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._notifications)

    async def _project(
        self, event: Event, retry_refused: bool = True, quiet: bool = False, route: bool = False, written: bool = False
    ) -> Dispatch | None:
        """Write the event unless it is `written` (`route`: the report, and route the new case: routing's
        decision), then tell of it."""
        self._events_this_run += 1
        self._changed = True  # the run loop recomputes when its timers are due
        case = self._opened.case
        notification = NotificationInput(event, case.title, case.kind, case.priority) if notifies(case.kind, event.action) else None
        notify_after = self._since(NOTIFY_AFTER_PROJECTION_PATCH)
        if notification and not notify_after:
            self._notify(notification)
        decision = None if written else await self._write(event, retry_refused, route)
        kind = event_message(SPECS.get(case.kind), event.action, event.data, case.created_by)
        if kind in NAMING_MESSAGES and not self._since(NAMING_PATCH):
            kind = None
        if (notification or kind) and notify_after and self._since(ANNOUNCE_PATCH):
            if kind and not quiet:
                self._announce(self._announcement(case, event, kind))
        elif notification and notify_after:
            self._notify(notification)
        return decision

    async def _write(self, event: Event, retry_refused: bool, route: bool = False) -> Dispatch | None:
        # No copy: the SDK turns an activity's input into payloads as it schedules it, before another
        # update can change the case (tests/workflows/test_case_workflow.py holds it to that).
        if self._since(PROJECT_LOCALLY_PATCH):
            info = workflow.info()
            fence = projection_fence(info.workflow_start_time, info.get_current_history_length(), workflow.now())
            written = ProjectInput(case=self._opened.case, event=event, retry_refused=retry_refused, fence=fence)
            if route:
                return await workflow.execute_local_activity_method(
                    CaseActivities.project_report, written, start_to_close_timeout=timedelta(seconds=30), retry_policy=PROJECTION_RETRY
                )
            await workflow.execute_local_activity_method(
                CaseActivities.project_case, written, start_to_close_timeout=timedelta(seconds=30), retry_policy=PROJECTION_RETRY
            )
            return None
        await workflow.execute_activity_method(
            CaseActivities.project_case,
            ProjectInput(case=self._opened.case, event=event, retry_refused=retry_refused),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )
        return None

    def _announcement(self, case: CaseState, event: Event, kind: str) -> AnnounceInput:
        item_owner = event.data.get("owner") if isinstance(event.data.get("owner"), str) else None
        return AnnounceInput(
            message_id=f"{case.id}:{event.seq}",
            kind=kind,
            case_id=case.id,
            case_kind=case.kind,
            title=case.title,
            owner=case.owner,
            team=case.team,
            people=meeting_people(case.data),
            action_item_owner=item_owner,
            actor=event.actor.name,
            named=meeting_people(event.data),
            task_queue=workflow.info().task_queue,
        )

    def _announce(self, announcement: AnnounceInput) -> None:
        """In the background, like a notification; the announcement only writes the inbox and starts
        the message's delivery workflow, so the run's end waits for it briefly, never for a channel."""
        start_in_background(self._notifications, MessageActivities.announce, announcement, ANNOUNCE_RETRY)

    def _notify(self, notification: NotificationInput) -> None:
        """Deliver in the background: a slow webhook must not hold up the change that caused it."""
        start_in_background(self._notifications, Notifier.deliver_notification, notification, NOTIFICATION_RETRY)
