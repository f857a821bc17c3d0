"""Audit routes: verify a case's history, read Temporal's raw history, export events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from api.controllers import CaseId, Time, query_time
from api.errors import problems
from api.schemas import KindName
from service.audit import Audit
from service.cases import Cases
from service.export import FORMATS, export_events
from service.read_model import EventFilter, ReadModel
from states.vocabulary import Role

AUDITING_ROLES = (Role.AUDITOR, Role.SUPERVISOR)


def may_audit(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in AUDITING_ROLES:
        raise PermissionDeniedException("only auditors and supervisors may audit")


class CaseAuditController(Controller):
    path = "/cases/{case_id:str}/history"
    tags = ["audit"]
    guards = [may_audit]

    @get(
        "/verify",
        summary="Check the stored history against its hash chain, Temporal's record and the machine",
        responses=problems(400, 403, 404, 422),
    )
    async def verify(self, case_id: CaseId, audit: NamedDependency[Audit]) -> dict[str, Any]:
        return (await audit.verify(case_id)).as_dict()

    @get("/temporal", summary="Temporal's raw event history of every run, payloads decoded", responses=problems(400, 403, 404, 422))
    async def temporal(self, case_id: CaseId, audit: NamedDependency[Audit]) -> dict[str, Any]:
        return await audit.temporal_history(case_id)


class NotificationController(Controller):
    path = "/cases/{case_id:str}/notifications"
    tags = ["notifications"]
    guards = [may_audit]

    @get("/", summary="Every webhook delivery attempt for the case's events, and its outcome", responses=problems(400, 403, 404, 422))
    async def notifications(self, case_id: CaseId, cases: NamedDependency[Cases]) -> dict[str, Any]:
        return {"items": await cases.deliveries(case_id)}


@dataclass
class ExportOperation(Operation):
    """The export answers JSON Lines, or CSV when asked for with Accept: text/csv."""

    def __post_init__(self) -> None:
        lines = Schema(type=OpenAPIType.STRING, description="one event a line, each with the `cursor` to resume after it")
        ok = (self.responses or {}).get("200")
        assert isinstance(ok, OpenAPIResponse), "the export's 200 response is declared"
        ok.content = {media_type.split(";")[0]: OpenAPIMediaType(schema=lines) for media_type in FORMATS.values()}


class ExportController(Controller):
    path = "/audit"
    tags = ["audit"]
    guards = [may_audit]

    @get(
        "/events",
        summary="Every event across cases, oldest first: JSON Lines, or CSV with Accept: text/csv",
        responses=problems(400, 403, 422),
        operation_class=ExportOperation,
    )
    async def events(
        self,
        request: Request,
        read_model: NamedDependency[ReadModel],
        since: Time = None,
        until: Time = None,
        kind: FromQuery[KindName | None] = None,
        actor: Annotated[str | None, QueryParameter(max_length=200)] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Stream:
        form = "csv" if "text/csv" in request.headers.get("accept", "") else "jsonl"
        where = EventFilter(query_time("since", since), query_time("until", until), kind, actor)
        await read_model.events_after(where, cursor, 1)  # a bad cursor is a 400 before streaming starts
        return Stream(export_events(read_model, where, cursor, form), media_type=FORMATS[form])
