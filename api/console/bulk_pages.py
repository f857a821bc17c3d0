"""Bulk actions: a supervisor selects cases in a list and applies one action to all, with a result per case."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from api.console.case_pages import action_form, may_change
from api.console.forms import read_form
from api.console.render import clock_for, page
from api.console.session import csrf_checked
from service.bulk import MAX_CASES, act_on_each
from states.case import Actor
from states.machine import KINDS, spec_for
from states.vocabulary import RefusalCode


def bulk_actions(role: str) -> list[str]:
    """The actions a role may take on several cases at once, as the kinds declare them."""
    names = [action.name for kind in KINDS for action in spec_for(kind).actions if action.in_bulk and role in action.roles]
    return list(dict.fromkeys(names))


def _declaring_kind(action: str) -> str:
    return next(kind for kind in KINDS if action in spec_for(kind).by_name)


class BulkPages(Controller):
    path = "/ui/cases/bulk"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/fields")
    async def fields(self, request: Request, action: Annotated[str, QueryParameter(max_length=64)] = "") -> Response:
        may_change(request)
        if action not in bulk_actions(request.user.role):
            return page(request, "bulk_fields.html", fields=[], values={}, errors={})
        return page(request, "bulk_fields.html", fields=await action_form(_declaring_kind(action), action, request), values={}, errors={})

    @post("/")
    async def apply(self, request: Request) -> Response:
        may_change(request)
        form = await request.form()
        # Several case ids under one name; every other field once.
        case_ids = [value for value in form.getall("case_ids", []) if isinstance(value, str) and 0 < len(value) <= 64]
        data = {name: value for name, value in form.items() if isinstance(value, str) and name != "case_ids"}
        action = data.get("action", "")
        problem = None
        if action not in bulk_actions(request.user.role):
            problem = RefusalCode.UNKNOWN_ACTION
        elif not case_ids:
            problem = RefusalCode.MISSING_FIELD
        elif len(case_ids) > MAX_CASES:
            problem = RefusalCode.TOO_LARGE
        if problem:
            return _result(request, 422, problem, [], action)
        fields = await action_form(_declaring_kind(action), action, request)
        submission = read_form(fields, data, clock_for(request))
        if submission.errors:
            return _result(request, 422, RefusalCode.WRONG_TYPE, [], action)
        note = (data.get("note") or "").strip() or None
        request_id = (data.get("request_id") or "").strip()
        if not (request_id.isalnum() and len(request_id) <= 64):
            request_id = uuid.uuid4().hex
        actor = Actor(name=request.user.name, role=request.user.role)
        outcomes = await act_on_each(request.app.state.cases, case_ids, action, actor, note, submission.data, request_id)
        return _result(request, 200, None, outcomes, action)


def _result(request: Request, status: int, problem: str | None, outcomes: list, action: str) -> Response:
    # A fresh request id for the next bulk request from the same page (this one's is spent).
    return page(request, "bulk_result.html", status, problem=problem, outcomes=outcomes, action=action, next_request_id=uuid.uuid4().hex)
