"""Quality checks (质检), the use cases: draw a period's sample and start a check workflow per case,
score, appeal and decide through the check's workflow, and read checks from the read model.

Reviewers are the enabled users with the role quality (质检员); where there is none, supervisors
review. The JSON API, the console and the weekly schedule all call these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from service.cases import CaseRefused
from service.directory import Directory
from service.quality_store import CheckFilter, QualityStore
from service.read_model import ReadModel
from service.settings import Settings, User
from service.teams import Department, Membership, leads_agent
from states.case import Actor, as_utc, format_time, parse_time
from states.errors import ActionForbidden, InvalidData
from states.quality import DECIDERS, Check, CheckAction, check_from_snapshot, check_id_for
from states.sampling import ClosedCase, sample, week_before
from states.scorecard import DEFAULT_RUBRIC_DATA, Rubric, automatic_deductions, parse_rubric
from states.vocabulary import SUPERVISING_ROLES, SYSTEM, Role
from workflows.quality_check import ENDED, AppealInput, DecideInput, QualityCheckInput, QualityCheckWorkflow, ScoreInput

# The longest period one sample may span (the API's and the console's).
MAX_SAMPLE_PERIOD = timedelta(days=92)


class CheckNotFound(LookupError):
    """No quality check of that id (or not one the caller may read)."""

    def __init__(self, check_id: str):
        super().__init__(f"no quality check {check_id}")
        self.check_id = check_id


@dataclass(frozen=True)
class QualityConfig:
    task_queue: str
    rubric: dict[str, Any] | None = None  # CASEWORK_RUBRIC's TOML; None: seed 002's scorecard
    per_agent: int = 5
    appeal_window_seconds: float = 7 * 24 * 3600
    seed: str = "casework"
    timezone: str = "Asia/Shanghai"  # where the weekly sample's weeks begin


def quality_config(settings: Settings) -> QualityConfig:
    return QualityConfig(settings.task_queue, settings.rubric, settings.quality_sample, settings.appeal_window_seconds, timezone=settings.timezone)


class QualityChecks:
    def __init__(self, client: Client, read_model: ReadModel, config: QualityConfig, configured_users: Iterable[User] = ()):
        self._client = client
        self._store = QualityStore(read_model)
        self._directory = Directory(read_model)
        self._department = Department(read_model)
        self._config = config
        self._rubric_data = DEFAULT_RUBRIC_DATA if config.rubric is None else config.rubric
        self.rubric: Rubric = parse_rubric(self._rubric_data)
        self._configured = tuple(configured_users)

    def rubric_of(self, check: dict[str, Any]) -> Rubric:
        """The scorecard a check is scored on: the one it was sampled with (a later CASEWORK_RUBRIC leaves it be)."""
        return parse_rubric(check["rubric"]) if check.get("rubric") else self.rubric

    async def reviewers(self) -> list[str]:
        """Quality reviewers, or supervisors where the department has none."""
        for role in (Role.QUALITY, Role.SUPERVISOR):
            chosen = await self._directory.enabled_names(role, self._configured)
            if chosen:
                return chosen
        return []

    async def sample(self, start: datetime, end: datetime, actor: Actor) -> list[dict[str, Any]]:
        """Check the cases closed in [start, end) that the sample draws; a case already checked for
        that closing is left out. A supervisor samples the agents of the teams they lead alone.
        The checks made, as they stand."""
        start, end = as_utc(start), as_utc(end)
        if start >= end:
            raise InvalidData("from", "must be before 'to'")
        if end - start > MAX_SAMPLE_PERIOD:
            raise InvalidData("to", f"the period may span at most {MAX_SAMPLE_PERIOD.days} days")
        closed, counts = await self._store.closed_cases(start, end)
        checked, drawn = await self._store.checked_in(start, end)
        closed = [case for case in closed if check_id_for(case.case_id, case.closed_at) not in checked]
        if actor.role in SUPERVISING_ROLES:
            leads = (await self._department.membership(actor.name)).leads
            memberships = await self._department.memberships()
            closed = [case for case in closed if leads_agent(actor.role, leads, memberships.get(case.agent, _NO_TEAM).teams)]
        period = f"{format_time(start)}/{format_time(end)}"
        chosen = sample(closed, self._config.per_agent, self._config.seed, period, await self.reviewers(), drawn)
        made = []
        for pick in chosen:
            breaches, reopens = counts.get(pick.case.case_id, (0, 0))
            check = await self._start(
                pick.case, pick.reviewer, list(pick.sampled_because), automatic_deductions(self.rubric, breaches, reopens), actor
            )
            if check is not None:
                made.append(check)
        return made

    async def checked_count(self, start: datetime, end: datetime) -> int:
        """How many checks there are of cases closed in [start, end): a sample of the period again leaves these out."""
        return len((await self._store.checked_in(start, end))[0])

    async def sample_week_before(self, by: str) -> int:
        """The weekly schedule's sample: the department's week before `by`. How many checks it made."""
        start, end = week_before(parse_time(by), ZoneInfo(self._config.timezone))
        return len(await self.sample(start, end, Actor(SYSTEM)))

    async def _start(
        self, case: ClosedCase, reviewer: str | None, sampled_because: list[str], automatic: list[dict[str, Any]], actor: Actor
    ) -> dict[str, Any] | None:
        check_id = check_id_for(case.case_id, case.closed_at)
        if await self._store.exists(check_id):
            return None
        check = Check(
            check_id,
            case.case_id,
            case.agent,
            reviewer,
            case.closed_at,
            format_time(datetime.now(UTC)),
            sampled_because,
            automatic,
            rubric=self._rubric_data,
        )
        try:
            handle = await self._client.start_workflow(
                QualityCheckWorkflow.run,
                QualityCheckInput(check, self._rubric_data, self._config.appeal_window_seconds, actor),
                id=check_id,
                task_queue=self._config.task_queue,
                # A case is checked once per closing, even after its check's workflow ended.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return None
        return asdict(await handle.execute_update(QualityCheckWorkflow.opened))

    async def score(self, check_id: str, actor: Actor, items: Any, reasons: Any, comment: str | None) -> dict[str, Any]:
        return await self._update(check_id, QualityCheckWorkflow.score, ScoreInput(actor, items, reasons, comment))

    async def appeal(self, check_id: str, actor: Actor, reason: str) -> dict[str, Any]:
        return await self._update(check_id, QualityCheckWorkflow.appeal, AppealInput(actor, reason))

    async def decide(self, check_id: str, actor: Actor, upheld: bool, comment: str, items: Any = None, reasons: Any = None) -> dict[str, Any]:
        check = await self._store.get(check_id)
        if check is not None and actor.role in DECIDERS:
            leads = (await self._department.membership(actor.name)).leads
            if not leads_agent(actor.role, leads, (await self._department.membership(check_from_snapshot(check).agent)).teams):
                raise ActionForbidden(
                    CheckAction.DECIDE,
                    actor.role or "",
                    [str(role) for role in DECIDERS],
                    "only a supervisor of the agent's team or a manager decides",
                )
        return await self._update(check_id, QualityCheckWorkflow.decide, DecideInput(actor, upheld, comment, items, reasons))

    async def _update(self, check_id: str, update, argument) -> dict[str, Any]:
        check = await self._store.get(check_id)
        if check is None:
            raise CheckNotFound(check_id)
        if check["status"] in ENDED:
            raise CaseRefused(
                "ActionNotAllowed", f"this check is {check['status']}: nothing changes it any more", {"state": check["status"], "allowed_actions": []}
            )
        try:
            return asdict(await self._client.get_workflow_handle(check_id).execute_update(update, argument))
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if not isinstance(cause, ApplicationError):
                raise CaseRefused("Failed", str(cause or "the update failed"), {}) from None
            details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
            raise CaseRefused(cause.type or "Failed", cause.message, details) from None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                # The check's workflow ended after the read above.
                raise CaseRefused("ActionNotAllowed", "this check is settled: nothing changes it any more", {}) from None
            raise

    async def get(self, check_id: str, viewer: Actor) -> dict[str, Any]:
        check = await self._store.get(check_id)
        if check is None or not may_read(viewer, check):
            raise CheckNotFound(check_id)
        return check

    async def history(self, check_id: str, viewer: Actor) -> list[dict[str, Any]]:
        await self.get(check_id, viewer)
        return await self._store.history(check_id)

    async def case_titles(self, checks: list[dict[str, Any]]) -> dict[str, str]:
        """The checked cases' titles, by case id (the console lists checks by them)."""
        return await self._store.case_titles(sorted({check["case_id"] for check in checks}))

    async def find(self, where: CheckFilter, viewer: Actor) -> list[dict[str, Any]]:
        if viewer.role == Role.AGENT:
            where = CheckFilter(viewer.name, where.reviewer, where.status, where.closed_from, where.closed_to, where.limit)
        return await self._store.find(where)


_NO_TEAM = Membership()


def may_read(viewer: Actor, check: dict[str, Any]) -> bool:
    """An agent reads their own checks alone; everyone else reads all."""
    return viewer.role != Role.AGENT or check_from_snapshot(check).agent == viewer.name
