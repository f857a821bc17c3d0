"""The console's routes, its error pages and its static files."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.static_files import create_static_files_router

from api.auth import SignInNeeded
from api.console.assessment_pages import AssessmentPages
from api.console.bulk_pages import BulkPages
from api.console.case_pages import CasePages
from api.console.department_pages import DepartmentPages
from api.console.export_pages import ExportPages
from api.console.handover_pages import HandoverPages
from api.console.live_pages import console_live
from api.console.meeting_pages import MeetingPages
from api.console.message_pages import MessagePages
from api.console.quality_pages import QualityPages
from api.console.queues import QueuePages
from api.console.render import STATIC, page
from api.console.routing_pages import RoutingPages
from api.console.session import CsrfRefused
from api.console.sign_in_pages import SessionPages, SignInPages, root, see_other
from api.console.supervisor_pages import SupervisorPages
from api.console.team_pages import TeamQueuePages, know_teams
from service.cases import CaseNotFound, Unavailable
from states.vocabulary import RefusalCode

log = logging.getLogger("casework.console")

# The console's pages, scripts and styles go out gzipped; the JSON API, live streams and exports as they are
# (the API's hot paths pay no compression, a stream must not wait for a buffer to fill).
COMPRESSED = DefineMiddleware(
    CompressionMiddleware, config=CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=1000, exclude=["^/ui/live", "^/ui/export"])
)

# Static URLs carry their content's hash (render.asset), so a browser keeps each file for a year.
STATIC_CACHE = CacheControlHeader(max_age=365 * 24 * 3600, public=True)


def _error_page(request: Request, status: int, heading: str, code: str) -> Response:
    return page(request, "error.html", status_code=status, heading=heading, code=code)


def on_not_found(request: Request, _: Exception) -> Response:
    return _error_page(request, 404, "page_not_found", RefusalCode.NOT_FOUND)


def on_forbidden(request: Request, error: Exception) -> Response:
    code = RefusalCode.FORBIDDEN_ROLE
    return _error_page(request, 403, "csrf_refused" if isinstance(error, CsrfRefused) else "forbidden", code)


def on_unavailable(request: Request, _: Exception) -> Response:
    response = _error_page(request, 503, "unavailable", RefusalCode.DEPENDENCY_DOWN)
    response.headers["Retry-After"] = "2"
    return response


def on_http_error(request: Request, error: HTTPException) -> Response:
    return _error_page(
        request, error.status_code, "request_refused", RefusalCode.MALFORMED_REQUEST if error.status_code < 500 else RefusalCode.INTERNAL_ERROR
    )


def on_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error_page(request, 500, "server_error", RefusalCode.INTERNAL_ERROR)


def on_sign_in_needed(request: Request, _: SignInNeeded) -> Response:
    """A page asked for without a live session: to the sign-in page, and back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/ui/login" if request.method != "GET" or request.headers.get("hx-request") else f"/ui/login?next={_quoted(target)}"
    return see_other(location, request)


def _quoted(target: str) -> str:
    return quote(target, safe="")


def console_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            root,
            SignInPages,
            SessionPages,
            QueuePages,
            BulkPages,
            CasePages,
            SupervisorPages,
            ExportPages,
            TeamQueuePages,
            DepartmentPages,
            RoutingPages,
            HandoverPages,
            AssessmentPages,
            QualityPages,
            MessagePages,
            MeetingPages,
            console_live,
        ],
        guards=[know_teams],
        exception_handlers={
            CaseNotFound: on_not_found,
            NotFoundException: on_not_found,
            PermissionDeniedException: on_forbidden,
            Unavailable: on_unavailable,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        middleware=[COMPRESSED],
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/ui/static", directories=[STATIC], cache_control=STATIC_CACHE, middleware=[COMPRESSED], include_in_schema=False
    )
