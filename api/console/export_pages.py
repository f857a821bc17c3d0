"""导出 for auditors and supervisors: the list they are looking at (its filters in the URL), and the
events of the period it shows, as CSV (with a BOM, for Excel) or XLSX, in their language."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Stream

from api.audit import may_audit
from api.console.queues import read_filters
from api.console.render import clock_for
from api.exports import Reader, as_listed
from service.export import CASES, EVENTS, case_batches, event_batches
from service.read_model import EventFilter

SheetFormat = Annotated[Literal["csv", "xlsx"], QueryParameter(description="csv or xlsx")]


class ExportPages(Controller):
    path = "/ui/export"
    guards = [may_audit]
    include_in_schema = False

    @get("/cases")
    async def case_list(self, request: Request, format: SheetFormat = "csv") -> Stream:
        clock = clock_for(request)
        filters = read_filters(request, clock.zone, mine=False)
        reader = Reader(request, format, clock.language, clock.zone)
        return await reader.export(CASES, case_batches(request.app.state.cases, filters.where, filters.sort), as_listed(request.user.role))

    @get("/events")
    async def events(self, request: Request, format: SheetFormat = "csv") -> Stream:
        clock = clock_for(request)
        filters = read_filters(request, clock.zone, mine=False)
        where = EventFilter(since=filters.where.created_after, until=filters.where.created_before, kind=filters.where.kind)
        reader = Reader(request, format, clock.language, clock.zone)
        return await reader.export(EVENTS, event_batches(request.app.state.read_model, where, None), dict)
