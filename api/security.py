"""Security defaults around every response: headers, a per-token rate limit, CORS only when asked."""

from __future__ import annotations

from litestar import Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import find_user
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


def security_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        is_schema = scope["path"].startswith("/schema")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not is_schema:
                    headers.setdefault("Content-Security-Policy", API_CSP)
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def rate_limit(per_minute: int, users: tuple[User, ...]) -> RateLimitConfig:
    def known_token_or_address(request: Request) -> str:
        """Per user for a known token; otherwise per client address, so guessing tokens is limited too."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = find_user(users, token.strip()) if scheme.lower() == "bearer" and token else None
        return f"user:{user.name}" if user else "address:" + get_remote_address(request)

    return RateLimitConfig(rate_limit=("minute", per_minute), identifier_for_request=known_token_or_address, exclude=["^/health$"])


def cors(origins: tuple[str, ...]) -> CORSConfig | None:
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        expose_headers=["ETag", "X-Request-ID", "Retry-After"],
    )
