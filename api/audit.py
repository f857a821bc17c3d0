"""Audit routes: verify a case's history, read Temporal's raw history, see its webhook deliveries (exports: api/exports.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from api.controllers import CaseId
from api.errors import problems
from service.audit import Audit
from service.cases import Cases
from states.vocabulary import Role

AUDITING_ROLES = (Role.AUDITOR, Role.SUPERVISOR, Role.MANAGER)


async def may_audit(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in AUDITING_ROLES:
        raise PermissionDeniedException("only auditors, supervisors and managers may audit")


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
