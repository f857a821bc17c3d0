"""Security defaults around every response: headers, a per-user rate limit shared by the replicas, CORS only when asked."""

from __future__ import annotations

import hashlib
import math

from litestar import Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.rate_limit import get_remote_address
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import is_console, token_user
from api.console.session import SESSION_COOKIE
from service.settings import User

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# The API answers JSON only; the OpenAPI pages under /schema load their own scripts and styles.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The API docs (Redoc): its own start-up script is inline and it renders in a blob worker; nothing from elsewhere.
SCHEMA_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; worker-src blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The console: everything from the app itself, no inline script or style, no eval.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def security_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        is_schema = scope["path"].startswith("/schema")
        csp = SCHEMA_CSP if is_schema else CONSOLE_CSP if is_console(scope["path"]) or scope["path"] == "/" else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


class SharedRateLimit(ASGIMiddleware):
    """`per_minute` requests per user (or, without a known token, per client address, so guessing
    tokens is limited too), counted in the shared store so that every API replica counts alike
    (a slice at a time: service/rate_counter.py)."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = "^/health$"

    def __init__(self, per_minute: int, users: tuple[User, ...]):
        self._per_minute = per_minute
        self._users = users

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request = scope["litestar_app"].request_class(scope)
        user = await token_user(request, self._users)
        session = request.cookies.get(SESSION_COOKIE, "") if is_console(scope["path"]) else ""
        if user:
            key = f"rate:user:{user.name}"
        elif session:
            key = "rate:session:" + hashlib.sha256(session.encode()).hexdigest()[:32]
        else:
            key = "rate:address:" + get_remote_address(request)
        count = await request.app.state.rate_counter.hit(key)
        headers = {
            "RateLimit-Policy": f"{self._per_minute}; w=60",
            "RateLimit-Limit": str(self._per_minute),
            "RateLimit-Remaining": str(max(self._per_minute - count.count, 0)),
            "RateLimit-Reset": str(max(math.ceil(count.resets_in), 1)),
        }
        if count.count > self._per_minute:
            raise TooManyRequestsException(headers=headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)


def cors(origins: tuple[str, ...]) -> CORSConfig | None:
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        expose_headers=["ETag", "X-Request-ID", "Retry-After"],
    )
