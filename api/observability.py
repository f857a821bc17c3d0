"""Per-request context for logs (request id, case id) and the Prometheus endpoint."""

from __future__ import annotations

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import case_id_var, request_id_var

CASE_PATH = re.compile(r"^/cases/([^/]+)")

prometheus = PrometheusConfig(app_name="casework", prefix="casework_http", group_path=True, exclude=["^/metrics$"])


class MetricsController(PrometheusController):
    """Prometheus metrics of this process; scrape with any user's bearer token."""

    path = "/metrics"
    include_in_schema = False


def request_context(app: ASGIApp) -> ASGIApp:
    """Give each request an id, and put it and the case it concerns on every log line it causes."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        match = CASE_PATH.match(scope["path"])
        tokens = (request_id_var.set(request_id), case_id_var.set(match.group(1) if match else None))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).setdefault("X-Request-ID", request_id)
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(tokens[0])
            case_id_var.reset(tokens[1])

    return middleware
