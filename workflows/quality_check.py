"""One workflow per quality check (质检): the durable source of truth for its score, appeal and
decision. Its updates refuse what the rules forbid in their validators (a refused update writes
nothing); each event is hash-chained and projected to the read model before the update returns.
A durable timer ends the appeal window: a score nobody appealed in time becomes final."""

from __future__ import annotations

import asyncio
import copy
import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from states.case import Actor, parse_time
    from states.errors import CaseRuleError
    from states.quality import Check, CheckEvent, CheckStatus, check_appeal, check_decide, check_score, decide, sampled, score, window_ended
    from states.quality import appeal as appeal_check
    from states.scorecard import parse_rubric
    from states.vocabulary import SYSTEM, MessageKind
    from workflows.errors import rule_error
    from workflows.messages import ANNOUNCE_RETRY, AnnounceInput, MessageActivities, start_in_background

QUALITY_CHECK_WORKFLOW = "QualityCheck"
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
ENDED = (CheckStatus.DECIDED, CheckStatus.FINAL)
# Since v2 a score is announced to the agent (quality_scored: workflows/messages.py).
ANNOUNCE_SCORE_PATCH = "announce-quality-scored"
# Since v3 the score's announcement runs in the background: a read-model outage (the announcement
# retries without end) no longer holds up the reviewer's request; the run waits for it before it ends.
ANNOUNCE_IN_BACKGROUND_PATCH = "announce-quality-scored-in-background"


@dataclass
class QualityCheckInput:
    check: Check
    rubric: dict[str, Any]
    appeal_window_seconds: float
    sampled_by: Actor  # who drew the sample: a supervisor, or the weekly schedule (system)


@dataclass
class ScoreInput:
    actor: Actor
    items: dict[str, Any]
    reasons: dict[str, Any] | None = None
    comment: str | None = None


@dataclass
class AppealInput:
    actor: Actor
    reason: str


@dataclass
class DecideInput:
    actor: Actor
    upheld: bool
    comment: str
    items: dict[str, Any] | None = None
    reasons: dict[str, Any] | None = None


@dataclass
class ProjectCheckInput:
    check: Check
    event: CheckEvent


class CheckStore(Protocol):
    async def project_check(self, check: Check, event: CheckEvent) -> None: ...


class QualityActivities:
    def __init__(self, store: CheckStore):
        self._store = store

    @activity.defn(name="project_quality_check")
    async def project_check(self, input: ProjectCheckInput) -> None:
        await self._store.project_check(input.check, input.event)


@workflow.defn(name=QUALITY_CHECK_WORKFLOW)
class QualityCheckWorkflow:
    @workflow.init
    def __init__(self, input: QualityCheckInput) -> None:
        self._check = input.check
        self._rubric = parse_rubric(input.rubric)
        self._window = timedelta(seconds=input.appeal_window_seconds)
        self._opened = False
        # Score announcements under way in the background (ANNOUNCE_IN_BACKGROUND_PATCH).
        self._announcements: set[asyncio.Future] = set()

    @workflow.run
    async def run(self, input: QualityCheckInput) -> Check:
        await self._project(sampled(self._check, input.sampled_by, workflow.now()))
        self._opened = True
        while self._check.status not in ENDED:
            status = self._check.status
            try:
                # A durable timer: the window ends even when the worker was down at that moment.
                await workflow.wait_condition(functools.partial(self._moved_from, status), timeout=self._window_left())
            except TimeoutError:
                event = window_ended(self._check, Actor(SYSTEM), workflow.now())
                if event is not None:
                    await self._project(event)
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._announcements)
        return self._check

    @workflow.update
    async def score(self, input: ScoreInput) -> Check:
        await workflow.wait_condition(lambda: self._opened)
        event = self._take(
            lambda: score(self._check, self._rubric, input.actor, input.items, input.reasons, input.comment, workflow.now(), self._window)
        )
        await self._project(event)
        if workflow.patched(ANNOUNCE_SCORE_PATCH):
            if workflow.patched(ANNOUNCE_IN_BACKGROUND_PATCH):
                start_in_background(self._announcements, MessageActivities.announce, self._score_announcement(), ANNOUNCE_RETRY)
            else:
                await workflow.execute_activity_method(
                    MessageActivities.announce, self._score_announcement(), start_to_close_timeout=timedelta(seconds=30), retry_policy=ANNOUNCE_RETRY
                )
        return self._check

    @score.validator
    def validate_score(self, input: ScoreInput) -> None:
        self._refuse(lambda check: check_score(check, self._rubric, input.actor, input.items, input.reasons, input.comment))

    @workflow.update
    async def appeal(self, input: AppealInput) -> Check:
        await workflow.wait_condition(lambda: self._opened)
        event = self._take(lambda: appeal_check(self._check, input.actor, input.reason, workflow.now()))
        await self._project(event)
        return self._check

    @appeal.validator
    def validate_appeal(self, input: AppealInput) -> None:
        self._refuse(lambda check: check_appeal(check, input.actor, input.reason, workflow.now()))

    @workflow.update
    async def decide(self, input: DecideInput) -> Check:
        await workflow.wait_condition(lambda: self._opened)
        event = self._take(
            lambda: decide(self._check, self._rubric, input.actor, input.upheld, input.items, input.reasons, input.comment, workflow.now())
        )
        await self._project(event)
        return self._check

    @decide.validator
    def validate_decide(self, input: DecideInput) -> None:
        self._refuse(lambda check: check_decide(check, self._rubric, input.actor, input.upheld, input.items, input.reasons, input.comment))

    @workflow.update
    async def opened(self) -> Check:
        """The check once its sampling is in the read model: the sampler answers with it."""
        await workflow.wait_condition(lambda: self._opened)
        return self._check

    @workflow.query
    def current(self) -> Check:
        return self._check

    def _moved_from(self, status: str) -> bool:
        return self._check.status != status

    def _window_left(self) -> timedelta | None:
        if self._check.status != CheckStatus.SCORED or self._check.appeal_until is None:
            return None
        return max(parse_time(self._check.appeal_until) - workflow.now(), timedelta(milliseconds=10))

    def _refuse(self, rule) -> None:
        try:
            rule(copy.deepcopy(self._check))
        except CaseRuleError as error:
            raise rule_error(error) from None

    def _take(self, change) -> CheckEvent:
        # Concurrent updates validated in one batch are checked again here, before any await.
        try:
            return change()
        except CaseRuleError as error:
            raise rule_error(error) from None

    def _score_announcement(self) -> AnnounceInput:
        """The agent hears that their case was scored (the inbox, then the channels)."""
        check = self._check
        return AnnounceInput(
            f"{check.id}:{check.version}", MessageKind.QUALITY_SCORED, check.case_id, agent=check.agent, task_queue=workflow.info().task_queue
        )

    async def _project(self, event: CheckEvent) -> None:
        await workflow.execute_activity_method(
            QualityActivities.project_check,
            ProjectCheckInput(check=self._check, event=event),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
        )
