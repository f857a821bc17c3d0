"""`POST /users/{name}/handover`: a supervisor of the user's team, or a manager, hands over every
open case of the user to another user or back to a team's queue (service/handover.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Request, Response, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter
from msgspec import Meta, Struct

from api.controllers import IdempotencyKey
from api.errors import problems
from api.idempotency import once
from service.bulk import Outcome
from service.cases import Cases
from service.handover import HANDING_ROLES, Handover, hand_over
from service.idempotency import Claim, IdempotencyKeys
from service.observability import request_id_var
from service.teams import Department
from states.case import Actor
from states.vocabulary import RefusalCode

UserName = Annotated[str, PathParameter(max_length=200, description="the user whose open cases are handed over")]
# How each refusal of one case reads in the results, as it would over HTTP on its own.
REFUSAL_STATUS: dict[str, int] = {
    RefusalCode.FORBIDDEN_ROLE: 403,
    RefusalCode.NOT_YOUR_CASE: 403,
    RefusalCode.NOT_IN_TEAM: 403,
    RefusalCode.UNKNOWN_CASE: 404,
    RefusalCode.NOT_ALLOWED_IN_PHASE: 409,
    RefusalCode.GUARD_FAILED: 409,
    RefusalCode.CLOSED_FOR_GOOD: 409,
    RefusalCode.STALE_VERSION: 409,
}


class HandoverIn(Struct, forbid_unknown_fields=True):
    to_user: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    to_team: Annotated[str, Meta(min_length=1, max_length=100)] | None = None


class HandoverProblem(Struct):
    code: str
    detail: str


class HandoverResult(Struct, omit_defaults=True):
    case_id: str
    ok: bool
    status: int
    problem: HandoverProblem | None = None


class HandoverResults(Struct):
    results: list[HandoverResult]


async def may_hand_over(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Before the body is read: which of the user's teams the supervisor leads, service/handover.py checks."""
    if connection.user.role not in HANDING_ROLES:
        raise PermissionDeniedException("only supervisors and managers hand over cases")


def _department(request: Request) -> Department:
    return request.app.state.department


@post(
    "/users/{name:str}/handover",
    tags=["users"],
    status_code=200,
    guards=[may_hand_over],
    summary="Hand over every open case of a user to another user (to_user) or to a team's queue (to_team): a result per case",
    description="Each case is an `assign` event whose reason names the handover. A supervisor hands over the members of the "
    "teams they lead, and moves only those teams' cases (others are refused in their result, 403); a manager, anyone's. "
    "Send an Idempotency-Key to retry safely.",
    responses=problems(400, 403, 404, 422),
)
async def handover(
    request: Request,
    name: UserName,
    data: JSONBody[HandoverIn],
    cases: NamedDependency[Cases],
    keys: NamedDependency[IdempotencyKeys],
    idempotency_key: IdempotencyKey = None,
) -> Response[HandoverResults]:
    actor = Actor(name=request.user.name, role=request.user.role)

    async def work(claim: Claim | None) -> Response:
        request_id = claim.update_id if claim else request_id_var.get() or uuid.uuid4().hex
        try:
            outcomes = await hand_over(cases, _department(request), actor, Handover(name, data.to_user, data.to_team), request_id)
        except LookupError as error:
            raise NotFoundException(str(error)) from None
        return Response(HandoverResults([_result(outcome) for outcome in outcomes]))

    return await once(request, idempotency_key, data, keys, uuid.uuid4().hex, work)


def _result(outcome: Outcome) -> HandoverResult:
    if outcome.done:
        return HandoverResult(outcome.case_id, True, 200)
    code = outcome.code or RefusalCode.REFUSED
    return HandoverResult(outcome.case_id, False, REFUSAL_STATUS.get(code, 422), HandoverProblem(code, outcome.detail or ""))
