"""Exports for auditors and supervisors: every event across cases, and the case list with its filters,
as JSON Lines (exact), CSV (with a BOM, for Excel) or XLSX, labelled in the caller's language."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from api.audit import may_audit
from api.controllers import AcceptLanguage, Lang, ListOrder, Time, case_filter, query_time
from api.errors import problems
from api.labels import label, negotiate
from api.schemas import KindName, case_for
from service.cases import Cases
from service.export import CASES, EVENTS, FORMATS, Presentation, Table, case_batches, csv_text, each_shown, event_batches, json_lines
from service.read_model import CaseFilter, EventFilter, ReadModel
from service.spreadsheet import chunks, size, xlsx_file
from service.visibility import Viewer, exported_case, exported_event

ExportFormat = Annotated[
    Literal["jsonl", "csv", "xlsx"] | None,
    QueryParameter(description="jsonl (exact wire values), csv or xlsx (labelled); else by Accept, else jsonl"),
]
Batches = AsyncIterator[list[dict[str, Any]]]


@dataclass
class ExportOperation(Operation):
    """An export answers in the format asked for: the OpenAPI document lists each media type."""

    def __post_init__(self) -> None:
        body = Schema(type=OpenAPIType.STRING, description="JSON Lines: one record a line; CSV: a header row of labels; XLSX: a workbook")
        ok = (self.responses or {}).get("200")
        assert isinstance(ok, OpenAPIResponse), "the export's 200 response is declared"
        ok.content = {media_type.split(";")[0]: OpenAPIMediaType(schema=body) for media_type in FORMATS.values()}


class ExportController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [may_audit]

    @get(
        "/events",
        summary="Every event across cases, oldest first, as JSON Lines, CSV or XLSX",
        responses=problems(400, 403, 422),
        operation_class=ExportOperation,
    )
    async def events(
        self,
        request: Request,
        read_model: NamedDependency[ReadModel],
        zone: NamedDependency[ZoneInfo],
        since: Time = None,
        until: Time = None,
        kind: FromQuery[KindName | None] = None,
        actor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
        format: ExportFormat = None,
        accept_language: AcceptLanguage = None,
        lang: Lang = None,
    ) -> Stream:
        where = EventFilter(query_time("since", since), query_time("until", until), kind, actor)
        await read_model.events_after(where, cursor, 1)  # a bad cursor is a 400 before streaming starts
        reader = Reader(request, format, negotiate(accept_language, lang), zone)
        # Masked in the batches, not in the JSON shape: CSV and XLSX show each event's data too.
        batches = each_shown(event_batches(read_model, where, cursor), functools.partial(exported_event, role=request.user.role))
        return await reader.export(EVENTS, batches, dict)

    @get(
        "/cases",
        summary="The case list with GET /cases's filters and order, every page of it, as JSON Lines, CSV or XLSX",
        responses=problems(400, 403, 422),
        operation_class=ExportOperation,
        dependencies={"where": Provide(case_filter, sync_to_thread=False)},
    )
    async def case_list(
        self,
        request: Request,
        cases: NamedDependency[Cases],
        zone: NamedDependency[ZoneInfo],
        where: NamedDependency[CaseFilter],
        viewer: NamedDependency[Viewer],
        sort: ListOrder = "created",
        format: ExportFormat = None,
        accept_language: AcceptLanguage = None,
        lang: Lang = None,
    ) -> Stream:
        reader = Reader(request, format, negotiate(accept_language, lang), zone)
        return await reader.export(CASES, case_batches(cases, viewer.narrowed(where), sort), as_listed(request.user.role))


def as_listed(role: str) -> Callable[[dict[str, Any]], Any]:
    """A case as an export shows it to `role`: its allowed actions are that role's, its customer's
    contacts masked unless `role` may take them out of the system."""
    return lambda case: msgspec.to_builtins(case_for(exported_case(case, role), role))


class Reader:
    """Who the export is for: the format they asked for, their language, the department's time zone."""

    def __init__(self, request: Request, form: str | None, language: str, zone: ZoneInfo):
        self.form = form or _format_by_accept(request.headers.get("accept", ""))
        self.language = language
        self.shown = Presentation(functools.partial(label, language), zone)

    async def export(self, table: Table, batches: Batches, shape: Callable[[dict[str, Any]], Any]) -> Stream:
        day = datetime.now(UTC).astimezone(self.shown.zone).strftime("%Y%m%d")
        headers = {"Content-Disposition": f'attachment; filename="casework-{table.name}-{day}.{self.form}"'}
        if self.form == "jsonl":
            return Stream(json_lines(batches, shape), media_type=FORMATS["jsonl"], headers=headers)
        headers["Content-Language"] = self.language
        if self.form == "csv":
            return Stream(csv_text(table, batches, self.shown), media_type=FORMATS["csv"], headers=headers)
        workbook = await xlsx_file(table, batches, self.shown)
        return Stream(chunks(workbook), media_type=FORMATS["xlsx"], headers={**headers, "Content-Length": str(size(workbook))})


def _format_by_accept(accept: str) -> str:
    for form in ("csv", "xlsx"):
        if FORMATS[form].split(";")[0] in accept:
            return form
    return "jsonl"
