"""交接: a manager hands over every open case of a user to another user or back to a team's queue,
and sees the result per case. The work is service/handover.py's, as for POST /users/{name}/handover;
the form's request id makes sending it again change nothing twice."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post

from api.console.case_pages import person_label
from api.console.department_pages import may_manage, may_read_teams
from api.console.forms import Choice, FormField
from api.console.render import language_of, page
from api.console.session import csrf_checked
from api.labels import label
from service.handover import Handover, hand_over
from service.read_model import CaseFilter
from states.case import Actor
from states.errors import CaseRuleError, InvalidData
from states.vocabulary import RefusalCode

TARGETS = ("user", "to_user", "to_team")
MAX_REQUEST_ID = 64


class HandoverPages(Controller):
    path = "/ui/department/handover"
    guards = [csrf_checked, may_read_teams]
    include_in_schema = False

    @get("/")
    async def form(self, request: Request) -> Response:
        may_manage(request)
        values = {"user": (request.query_params.get("user") or "").strip()[:100]}
        return await self._page(request, values, {}, None)

    @post("/")
    async def hand_over(self, request: Request) -> Response:
        may_manage(request)
        form = await request.form()
        values = {key: value.strip()[:100] for key in TARGETS if isinstance(value := form.get(key, ""), str)}
        request_id = form.get("request_id", "")
        request_id = request_id if isinstance(request_id, str) and request_id.isalnum() and len(request_id) <= MAX_REQUEST_ID else uuid.uuid4().hex
        if not values.get("user"):
            return await self._page(request, values, {"user": RefusalCode.MISSING_FIELD}, None, status_code=422)
        handover = Handover(values["user"], values.get("to_user") or None, values.get("to_team") or None)
        actor = Actor(name=request.user.name, role=request.user.role)
        try:
            outcomes = await hand_over(request.app.state.cases, request.app.state.department, actor, handover, request_id)
        except LookupError:
            return await self._page(request, values, {"user": RefusalCode.INVALID_VALUE}, None, status_code=422)
        except InvalidData as refused:
            return await self._page(request, values, {refused.field: refused.code}, None, status_code=422)
        except CaseRuleError as refused:
            return await self._page(request, values, {"user": refused.code}, None, status_code=403)
        return await self._page(request, values, {}, outcomes)

    async def _page(
        self, request: Request, values: dict[str, Any], errors: dict[str, str], outcomes: list | None, status_code: int = 200
    ) -> Response:
        language = language_of(request)
        people = await request.app.state.directory.people()
        users = tuple(Choice(person.name, person_label(person.name, person.display_name)) for person in people)
        enabled = tuple(Choice(person.name, person_label(person.name, person.display_name)) for person in people if not person.disabled)
        teams = tuple(Choice(name, name) for name in await request.app.state.department.team_names())
        fields = [
            FormField("user", label(language, "console", "handover_user"), "select", True, users),
            FormField("to_user", label(language, "console", "handover_to_user"), "select", False, enabled),
            FormField("to_team", label(language, "console", "handover_to_team"), "select", False, teams),
        ]
        user = values.get("user")
        open_count = await request.app.state.read_model.count_cases(CaseFilter(owner=user, open=True)) if user else None
        titles = {}
        for outcome in outcomes or []:
            case = await request.app.state.read_model.get_case(outcome.case_id)
            titles[outcome.case_id] = case["title"] if case else ""
        return page(
            request,
            "handover.html",
            status_code,
            fields=fields,
            values=values,
            errors=errors,
            outcomes=outcomes,
            titles=titles,
            open_count=open_count,
            request_id=uuid.uuid4().hex,
        )
