"""A team's queue: its unassigned open cases (未分配), each with 认领 for the team's members.

A claim goes through the same service as the API's `claim` action, with the form's request id as the
update id; the case rules decide whether it is allowed (the case's team, still unassigned).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter

from api.console.badges import case_badges
from api.console.case_pages import may_change, refusal_of, request_id_of
from api.console.live_pages import live_start
from api.console.queues import queue_counts
from api.console.render import TEAM_READERS, page, viewer_of
from api.console.session import csrf_checked
from api.console.sign_in_pages import Form, see_other
from service.cases import CaseRefused
from service.read_model import CaseFilter
from states.case import Actor
from states.common import CLAIM
from states.errors import CaseRuleError
from states.vocabulary import RefusalCode, Role
from workflows.inputs import ActInput

TeamName = Annotated[str, PathParameter(max_length=100)]
QUEUE_SIZE = 100


async def know_teams(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The signed-in user's teams, for the navigation's team queues (one query a page)."""
    user = connection.scope.get("user")
    if user is not None:
        membership = await connection.app.state.department.membership(user.name)
        connection.state.teams = membership.teams


def _may_read_queue(request: Request, team: str) -> None:
    """A team's members work its queue; supervisors, managers and auditors read every team's."""
    role = request.user.role
    if role not in (*TEAM_READERS, Role.AUDITOR) and team not in getattr(request.state, "teams", ()):
        raise PermissionDeniedException("only the team's members read its queue")


class TeamQueuePages(Controller):
    path = "/ui/queues"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/{team:str}")
    async def queue(self, request: Request, team: TeamName) -> Response:
        return await self._queue(request, team, None)

    @post("/{team:str}/claim")
    async def claim(self, request: Request, team: TeamName, data: Form) -> Response:
        may_change(request)
        _may_read_queue(request, team)
        case_id = (data.get("case_id") or "").strip()[:64]
        act = ActInput(CLAIM.name, Actor(name=request.user.name, role=request.user.role), None, {}, None, request_id_of(data))
        try:
            await request.app.state.cases.act(case_id, act)
        except (CaseRefused, CaseRuleError) as refused:
            errors, problem = refusal_of(refused)
            code = (problem or {}).get("code") or next(iter(errors.values()), RefusalCode.REFUSED)
            return await self._queue(request, team, {"case_id": case_id, "code": code}, status_code=403 if code in _FORBIDDEN else 409)
        return see_other(f"/ui/cases/{quote(case_id)}", request)

    async def _queue(self, request: Request, team: str, refused: dict[str, Any] | None, status_code: int = 200) -> Response:
        _may_read_queue(request, team)
        found = await request.app.state.department.team(team)
        if found is None:
            raise NotFoundException(f"no team {team!r}")
        after = await live_start(request)
        cases, count = request.app.state.cases, request.app.state.read_model.count_cases
        unassigned = CaseFilter(team=team, unassigned=True, open=True)
        listed = await cases.find(unassigned, QUEUE_SIZE, None, "sla_due")
        member = team in getattr(request.state, "teams", ())
        viewer = await viewer_of(request)
        return page(
            request,
            "team_queue.html",
            status_code,
            team=found,
            rows=[{"case": viewer.shown(case), "badges": case_badges(case), "request_id": uuid.uuid4().hex} for case in listed.items],
            team_counts={"unassigned": await count(unassigned), "open": await count(CaseFilter(team=team, open=True))},
            counts=await queue_counts(request),
            may_claim=member and request.user.role != Role.AUDITOR,
            refused=refused,
            live=f"/ui/live?after={after}",
        )


_FORBIDDEN = (RefusalCode.NOT_IN_TEAM, RefusalCode.NOT_YOUR_CASE, RefusalCode.FORBIDDEN_ROLE)
