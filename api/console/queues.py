"""The queues: 我的案件 and 全部案件, filtered from the URL (a filter is a link someone can send)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get

from api.audit import AUDITING_ROLES
from api.console.badges import case_badges
from api.console.bulk_pages import bulk_actions
from api.console.live_pages import live_start
from api.console.render import clock_for, page, viewer_of
from api.console.session import csrf_checked
from service.read_model import BadCursor, CaseFilter
from states.spec import PHASES, PRIORITIES
from states.vocabulary import Kind, RefusalCode

PAGE_SIZE = 50
TEXT_FILTERS = ("owner", "customer", "q", "team", "site")
MAX_FILTER_TEXT = 200
SORTS = ("created", "sla_due")


@dataclass
class Filters:
    """The queue's filters as the URL gives them, the errors found in them, and the read model's filter."""

    values: dict[str, str]
    errors: dict[str, str]
    where: CaseFilter
    sort: str
    cursor: str | None

    def link(self, **changes: str | None) -> str:
        values = {**self.values, **changes}
        return "?" + urlencode({key: value for key, value in values.items() if value})


def read_filters(request: Request, zone, mine: bool) -> Filters:
    query = request.query_params
    values = {
        name: (query.get(name) or "").strip()[:MAX_FILTER_TEXT]
        for name in (*TEXT_FILTERS, "kind", "phase", "priority", "from", "to", "breached", "unassigned", "sort")
    }
    errors: dict[str, str] = {}
    for name, allowed in (("kind", list(Kind)), ("phase", PHASES), ("priority", PRIORITIES), ("sort", SORTS)):
        if values[name] and values[name] not in allowed:
            errors[name] = RefusalCode.INVALID_VALUE
            values[name] = ""
    created_after = _day_start(values, "from", zone, errors)
    created_before = _day_start(values, "to", zone, errors, next_day=True)
    where = CaseFilter(
        kind=values["kind"] or None,
        state=values["phase"] or None,
        priority=values["priority"] or None,
        owner=request.user.name if mine else (values["owner"] or None),
        customer_id=values["customer"] or None,
        created_after=created_after,
        created_before=created_before,
        breached=True if values["breached"] == "1" else None,
        open=True if mine else None,
        q=values["q"] or None,
        team=values["team"] or None,
        site=values["site"] or None,
        unassigned=True if values["unassigned"] == "1" and not mine else None,
    )
    return Filters(values, errors, where, values["sort"] or "created", (query.get("cursor") or None))


def _day_start(values: dict[str, str], name: str, zone, errors: dict[str, str], next_day: bool = False) -> datetime | None:
    text = values[name]
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = RefusalCode.INVALID_VALUE
        values[name] = ""
        return None
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time(0), zone)


class QueuePages(Controller):
    path = "/ui/cases"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/")
    async def all_cases(self, request: Request) -> Response:
        return await self._queue(request, mine=False)

    @get("/mine")
    async def my_cases(self, request: Request) -> Response:
        return await self._queue(request, mine=True)

    async def _queue(self, request: Request, mine: bool) -> Response:
        cases = request.app.state.cases
        filters = read_filters(request, clock_for(request).zone, mine)
        after = await live_start(request)  # before reading the list, so no change falls between the two
        viewer = await viewer_of(request)
        where = viewer.narrowed(filters.where)
        try:
            found = await cases.find(where, PAGE_SIZE, filters.cursor, filters.sort)
        except BadCursor:
            filters.errors["cursor"] = RefusalCode.BAD_CURSOR
            found = await cases.find(where, PAGE_SIZE, None, filters.sort)
        rows = [{"case": viewer.shown(case), "badges": case_badges(case)} for case in found.items]
        return page(
            request,
            "queue.html",
            mine=mine,
            title_key="my_cases" if mine else "all_cases",
            filters=filters,
            rows=rows,
            next_link=filters.link(cursor=found.next_cursor) if found.next_cursor else None,
            kinds=list(Kind),
            phases=PHASES,
            priorities=PRIORITIES,
            counts=await queue_counts(request),
            teams=await request.app.state.department.team_names(),
            sites=await request.app.state.department.sites(),
            live=f"/ui/live?after={after}",
            bulk=bulk_actions(request.user.role),
            may_export=request.user.role in AUDITING_ROLES,
            request_id=uuid.uuid4().hex,
        )


async def queue_counts(request: Request) -> dict[str, Any]:
    """The navigation's counts: the user's open cases, every case, and each of their teams' unassigned ones."""
    count = request.app.state.read_model.count_cases
    teams = {team: await count(CaseFilter(team=team, unassigned=True, open=True)) for team in getattr(request.state, "teams", ())}
    every = (await viewer_of(request)).narrowed(CaseFilter())
    return {"mine": await count(CaseFilter(owner=request.user.name, open=True)), "all": await count(every), "teams": teams}
