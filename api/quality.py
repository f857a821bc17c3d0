"""Quality checks (质检) over HTTP: the rubric, sampling, checks, score, appeal and decision.

Everyone signed in reads (an agent their own checks alone); auditors change nothing. Who may score,
appeal or decide is the check's own rule (states/quality.py), enforced by its workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Struct

from api.auth import may_change_checks, supervising_only
from api.controllers import query_time
from api.errors import problem, problems
from service.quality import CheckNotFound, QualityChecks
from service.quality_store import CheckFilter
from states.case import Actor
from states.quality import CheckStatus, chain_intact
from states.scorecard import MAX_TEXT
from states.vocabulary import RefusalCode

CheckId = Annotated[str, PathParameter(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]


class Deduction(Struct):
    item: str
    points: float
    reason: str
    automatic: bool
    count: int | None = None  # automatic ones: how many breaches or reopens


class CheckOut(Struct):
    id: str
    case_id: str
    agent: str
    reviewer: str | None
    status: str
    items: dict[str, int] | None
    deductions: list[Deduction]
    total: float | None
    appeal: dict[str, Any] | None
    comment: str | None
    sampled_because: list[str]
    case_closed_at: str
    sampled_at: str
    scored_by: str | None
    scored_at: str | None
    appeal_until: str | None
    version: int


class CheckList(Struct):
    items: list[CheckOut]


class CheckEventOut(Struct):
    seq: int
    check_id: str
    action: str
    from_status: str | None
    to_status: str
    actor: dict[str, str | None]
    at: str
    note: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class CheckHistory(Struct):
    items: list[CheckEventOut]
    intact: bool  # whether the hash chain holds


class SampleIn(Struct):
    from_: datetime = msgspec.field(name="from")
    to: datetime


class ScoreIn(Struct):
    items: dict[str, Any]
    comment: Text | None = None  # the reason of every item below its max that has none of its own
    reasons: dict[str, Text] | None = None  # optional: a reason per item given less than its max


class AppealIn(Struct):
    reason: Text


class DecideIn(Struct):
    upheld: bool
    comment: Text
    items: dict[str, Any] | None = None
    reasons: dict[str, Text] | None = None


def check_view(check: dict[str, Any]) -> CheckOut:
    """A check as clients see it: before it is scored, its deductions are the automatic ones."""
    view = {**check, "deductions": check.get("deductions") or check.get("automatic") or []}
    return msgspec.convert(view, CheckOut, strict=False)


def on_check_not_found(_: Request, error: CheckNotFound) -> Response:
    return problem(404, "not found", str(error), code=RefusalCode.NOT_FOUND, check_id=error.check_id)


def _checks(state: State) -> QualityChecks:
    return state.quality


def _actor(request: Request) -> Actor:
    return Actor(request.user.name, request.user.role)


class QualityController(Controller):
    path = "/quality"
    tags = ["quality checks"]
    dependencies = {"checks": Provide(_checks, sync_to_thread=False)}
    exception_handlers = {CheckNotFound: on_check_not_found}

    @get("/rubric", summary="The scorecard checks are scored on (CASEWORK_RUBRIC)")
    async def rubric(self, checks: NamedDependency[QualityChecks]) -> dict[str, Any]:
        return checks.rubric.describe()

    @post(
        "/samples",
        guards=[may_change_checks, supervising_only],
        status_code=201,
        summary="Sample the cases closed in a period and start their checks; the checks it made",
        responses=problems(400, 403, 413, 422),
    )
    async def sample(self, request: Request, data: JSONBody[SampleIn], checks: NamedDependency[QualityChecks]) -> CheckList:
        made = await checks.sample(data.from_, data.to, _actor(request))
        return CheckList([check_view(check) for check in made])

    @get("/checks", summary="Quality checks, newest closing first (an agent: their own)", responses=problems(400, 422))
    async def checks(
        self,
        request: Request,
        checks: NamedDependency[QualityChecks],
        agent: Annotated[str | None, QueryParameter(max_length=200)] = None,
        reviewer: Annotated[str | None, QueryParameter(max_length=200)] = None,
        status: Annotated[CheckStatus | None, QueryParameter()] = None,
        start: Annotated[
            str | None, QueryParameter(name="from", format=OpenAPIFormat.DATE_TIME, max_length=64, description="cases closed at or after")
        ] = None,
        to: Annotated[str | None, QueryParameter(format=OpenAPIFormat.DATE_TIME, max_length=64, description="cases closed before")] = None,
    ) -> CheckList:
        where = CheckFilter(agent, reviewer, status, query_time("from", start), query_time("to", to))
        return CheckList([check_view(check) for check in await checks.find(where, _actor(request))])

    @get("/checks/{check_id:str}", summary="One quality check", responses=problems(400, 404, 422))
    async def check(self, request: Request, check_id: CheckId, checks: NamedDependency[QualityChecks]) -> CheckOut:
        return check_view(await checks.get(check_id, _actor(request)))

    @get("/checks/{check_id:str}/history", summary="A check's events, hash-chained, oldest first", responses=problems(400, 404, 422))
    async def history(self, request: Request, check_id: CheckId, checks: NamedDependency[QualityChecks]) -> CheckHistory:
        events = await checks.history(check_id, _actor(request))
        return CheckHistory([msgspec.convert(event, CheckEventOut) for event in events], chain_intact(events))

    @post(
        "/checks/{check_id:str}/score",
        guards=[may_change_checks],
        status_code=200,
        summary="Score a sampled case on the scorecard (quality reviewers, supervisors, managers; never one's own case)",
        responses=problems(400, 403, 404, 409, 413, 422),
    )
    async def score(self, request: Request, check_id: CheckId, data: JSONBody[ScoreIn], checks: NamedDependency[QualityChecks]) -> CheckOut:
        await checks.get(check_id, _actor(request))
        return check_view(await checks.score(check_id, _actor(request), data.items, data.reasons, data.comment))

    @post(
        "/checks/{check_id:str}/appeal",
        guards=[may_change_checks],
        status_code=200,
        summary="Appeal a score (申诉): the checked agent, once, within the appeal window",
        responses=problems(400, 403, 404, 409, 413, 422),
    )
    async def appeal(self, request: Request, check_id: CheckId, data: JSONBody[AppealIn], checks: NamedDependency[QualityChecks]) -> CheckOut:
        await checks.get(check_id, _actor(request))
        return check_view(await checks.appeal(check_id, _actor(request), data.reason))

    @post(
        "/checks/{check_id:str}/decide",
        guards=[may_change_checks],
        status_code=200,
        summary="Decide an appeal: uphold the score or change it (supervisors, managers)",
        responses=problems(400, 403, 404, 409, 413, 422),
    )
    async def decide(self, request: Request, check_id: CheckId, data: JSONBody[DecideIn], checks: NamedDependency[QualityChecks]) -> CheckOut:
        await checks.get(check_id, _actor(request))
        return check_view(await checks.decide(check_id, _actor(request), data.upheld, data.comment, data.items, data.reasons))
