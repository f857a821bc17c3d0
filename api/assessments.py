"""Assessments (考核) over HTTP: made on demand by supervisors, scored by supervisor, agent and
team-mates, finalised by a supervisor; an agent reads only their own, auditors read all and change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Struct

from api.auth import may_change, supervising_only
from api.coaching_words import coaching_words
from api.errors import problems
from service.assessments import AssessmentNotFound, Assessments
from service.cases import Cases
from service.coaching import open_coaching
from service.observability import request_id_var
from states.assessment_periods import period_at, period_before
from states.case import Actor

IdParameter = Annotated[str, PathParameter(max_length=200)]


class MakeIn(Struct):
    period: Literal["monthly", "quarterly", "yearly"]
    # Any moment in the period to assess; default: the whole period before now.
    from_: datetime | None = msgspec.field(name="from", default=None)
    agents: list[str] | None = None  # default: every enabled agent


class ScoreIn(Struct):
    score: float
    comment: str | None = None


class PeerIn(Struct):
    score: float


class CoachingIn(Struct):
    kpi: str | None = None  # default: the first missed target's KPI


class AssessmentList(Struct):
    items: list[dict[str, Any]]


def _actor(request: Request) -> Actor:
    return Actor(request.user.name, request.user.role)


class AssessmentController(Controller):
    path = "/assessments"
    tags = ["assessments"]

    @get("/", summary="Assessments, newest period first (an agent: their own)", responses=problems(400, 422))
    async def list_assessments(
        self,
        request: Request,
        assessments: NamedDependency[Assessments],
        agent: Annotated[str | None, QueryParameter(max_length=100)] = None,
        period: Annotated[str | None, QueryParameter(max_length=16, description="2026-11, 2026-Q4, 2026, or monthly, quarterly, yearly")] = None,
    ) -> AssessmentList:
        return AssessmentList(await assessments.find(_actor(request), agent, period))

    @post(
        "/",
        guards=[may_change, supervising_only],
        status_code=201,
        summary="Make (or refresh) a period's assessments",
        responses=problems(400, 403, 422),
    )
    async def make(self, request: Request, data: JSONBody[MakeIn], assessments: NamedDependency[Assessments]) -> AssessmentList:
        zone = assessments.zone
        period = period_at(data.from_, data.period, zone, "from") if data.from_ else period_before(datetime.now(UTC), data.period, zone)
        return AssessmentList(await assessments.make(period, _actor(request), data.agents))

    @get("/{assessment_id:str}", summary="One assessment", responses=problems(400, 403, 404, 422))
    async def get_one(self, request: Request, assessment_id: IdParameter, assessments: NamedDependency[Assessments]) -> dict[str, Any]:
        return await _found(assessments.get(assessment_id, _actor(request)))

    @get("/{assessment_id:str}/log", summary="Every change to one assessment: who, when, what", responses=problems(400, 403, 404, 422))
    async def log(self, request: Request, assessment_id: IdParameter, assessments: NamedDependency[Assessments]) -> AssessmentList:
        return AssessmentList(await _found(assessments.log(assessment_id, _actor(request))))

    @post(
        "/{assessment_id:str}/score",
        guards=[may_change],
        status_code=200,
        summary="The supervisor's score and comment",
        responses=problems(400, 403, 404, 409, 422),
    )
    async def score(
        self, request: Request, assessment_id: IdParameter, data: JSONBody[ScoreIn], assessments: NamedDependency[Assessments]
    ) -> dict[str, Any]:
        return await _found(assessments.score(assessment_id, _actor(request), data.score, data.comment))

    @post(
        "/{assessment_id:str}/self",
        guards=[may_change],
        status_code=200,
        summary="The agent's self-assessment",
        responses=problems(400, 403, 404, 409, 422),
    )
    async def self_assess(
        self, request: Request, assessment_id: IdParameter, data: JSONBody[ScoreIn], assessments: NamedDependency[Assessments]
    ) -> dict[str, Any]:
        return await _found(assessments.self_assess(assessment_id, _actor(request), data.score, data.comment))

    @post(
        "/{assessment_id:str}/peer",
        guards=[may_change],
        status_code=200,
        summary="A team-mate's peer score",
        responses=problems(400, 403, 404, 409, 422),
    )
    async def peer(
        self, request: Request, assessment_id: IdParameter, data: JSONBody[PeerIn], assessments: NamedDependency[Assessments]
    ) -> dict[str, Any]:
        return await _found(assessments.peer_score(assessment_id, _actor(request), data.score))

    @post(
        "/{assessment_id:str}/finalise",
        guards=[may_change],
        status_code=200,
        summary="Finalise: no change after",
        responses=problems(400, 403, 404, 409, 422),
    )
    async def finalise(self, request: Request, assessment_id: IdParameter, assessments: NamedDependency[Assessments]) -> dict[str, Any]:
        return await _found(assessments.finalise(assessment_id, _actor(request)))

    @post(
        "/{assessment_id:str}/coaching",
        guards=[may_change],
        status_code=201,
        summary="Open a coaching plan: an improvement plan measuring the agent's missed KPI",
        responses=problems(400, 403, 404, 409, 422),
    )
    async def coaching(
        self,
        request: Request,
        assessment_id: IdParameter,
        assessments: NamedDependency[Assessments],
        cases: NamedDependency[Cases],
        data: JSONBody[CoachingIn | None] = None,
    ) -> dict[str, Any]:
        request_id = request_id_var.get() or uuid.uuid4().hex
        words = coaching_words(request.app.state.directory, assessments.zone)
        return await _found(open_coaching(assessments, cases, assessment_id, _actor(request), request_id, data.kpi if data else None, words))


async def _found(call) -> Any:
    try:
        return await call
    except AssessmentNotFound as missing:
        raise NotFoundException(f"no assessment {missing}") from None
