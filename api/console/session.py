"""The console's session cookie and its CSRF tokens.

A page's CSRF token is derived from the session id (which only the browser's HttpOnly cookie holds),
so every API replica checks it without a shared secret and without storing anything more. The
sign-in form, before any session exists, uses a random cookie echoed in the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from service.settings import Settings

SESSION_COOKIE = "casework_session"
SIGN_IN_COOKIE = "casework_sign_in"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(PermissionDeniedException):
    """A state-changing console request without the page's CSRF token: refused, nothing changed."""


def csrf_token(session_id: str) -> str:
    return hmac.new(session_id.encode(), b"casework-csrf", hashlib.sha256).hexdigest()


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def session_id(connection: ASGIConnection) -> str:
    return connection.cookies.get(SESSION_COOKIE, "")


async def sent_token(connection: ASGIConnection) -> str:
    sent = connection.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await Request(connection.scope, connection.receive).form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    return sent


async def csrf_checked(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Every state-changing console request carries the page's CSRF token (header or form field)."""
    if connection.scope.get("method") in SAFE_METHODS:
        return
    current = session_id(connection)
    if not current or not hmac.compare_digest(await sent_token(connection), csrf_token(current)):
        raise CsrfRefused("the form's security token is missing or out of date; reload the page")


async def sign_in_checked(connection: ASGIConnection) -> None:
    expected = connection.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(await sent_token(connection), expected):
        raise CsrfRefused("the sign-in form's security token is missing or out of date; reload the page")


def cookie(name: str, value: str, settings: Settings, max_age: int | None = None, path: str = "/") -> Cookie:
    return Cookie(key=name, value=value, path=path, httponly=True, samesite="lax", secure=settings.secure_cookies, max_age=max_age)


def cleared(name: str, settings: Settings, path: str = "/") -> Cookie:
    return cookie(name, "", settings, max_age=0, path=path)
