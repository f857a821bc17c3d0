"""Bearer-token authentication and role guards."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from api.console.session import SESSION_COOKIE
from service.settings import User, hash_token
from states.vocabulary import SUPERVISING_ROLES, Role

# The console's root, sign-in page and static files are public; every other console page needs a session.
PUBLIC_PATHS = ["^/health$", "^/schema", "^/$", "^/ui/login$", "^/ui/static/"]
CONSOLE_PREFIX = "/ui/"
CODEC_PREFIX = "/codec/"


class SignInNeeded(NotAuthorizedException):
    """A console page asked for without a live session: the browser is sent to the sign-in page."""


def is_console(path: str) -> bool:
    return path.startswith(CONSOLE_PREFIX)


class TokenAuthentication(AbstractAuthenticationMiddleware):
    """The JSON API takes bearer tokens; the console, under /ui/, its session cookie (never a token,
    and the API never a cookie, so a cross-site form cannot act through the API)."""

    def __init__(self, app, users: tuple[User, ...], **kwargs):
        super().__init__(app, **kwargs)
        self._users = users

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        path = connection.scope["path"]
        # The codec endpoint takes either: the Temporal UI sends the console's cookie (same site) or a token.
        if is_console(path) or (path.startswith(CODEC_PREFIX) and not bearer_token(connection)):
            session = await console_session(connection)
            if session is None:
                if not is_console(path):
                    raise NotAuthorizedException("send Authorization: Bearer <token>, or sign in to the console first")
                raise SignInNeeded("sign in first")
            return AuthenticationResult(user=session.user, auth=session)
        if not bearer_token(connection):
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        user = await token_user(connection, self._users)
        if user is None:
            raise NotAuthorizedException("unknown token")
        return AuthenticationResult(user=user, auth=None)


def bearer_token(connection: ASGIConnection) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


_TOKEN_USER = "casework.token_user"


async def token_user(connection: ASGIConnection, users: tuple[User, ...]) -> User | None:
    """The user a request's bearer token names: one of CASEWORK_USERS, else an enabled directory
    user's unrevoked token (asked of the database every request, so a disabled user's next request
    is refused). Looked up once per request: the rate limit asks first, then authentication."""
    if _TOKEN_USER not in connection.scope:
        token = bearer_token(connection)
        user = None
        if token:
            user = find_user(users, token) or await connection.app.state.directory.user_for_token(token)
        connection.scope[_TOKEN_USER] = user  # type: ignore[literal-required]
    return connection.scope[_TOKEN_USER]  # type: ignore[literal-required]


async def console_session(connection: ASGIConnection):
    """The live session the console's cookie names (asked of the shared store every request, so a
    disabled user or a signed-out session ends at once on every replica), or None."""
    session_id = connection.cookies.get(SESSION_COOKIE, "")
    if not session_id or len(session_id) > 200:
        return None
    return await connection.app.state.sign_in.session_user(session_id)


def find_user(users: tuple[User, ...], token: str) -> User | None:
    # Compare with every user's hash, so the time taken says nothing about which one nearly matched.
    presented = hash_token(token)
    found = None
    for user in users:
        if hmac.compare_digest(user.token_hash, presented):
            found = user
    return found


def authentication(users: tuple[User, ...]) -> DefineMiddleware:
    return DefineMiddleware(TokenAuthentication, users=users, exclude=PUBLIC_PATHS)


async def may_change(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Auditors read everything and change nothing; quality reviewers change no case (only their checks)."""
    if connection.user.role == Role.AUDITOR:
        raise PermissionDeniedException("auditors may read but not change cases")
    if connection.user.role == Role.QUALITY:
        raise PermissionDeniedException("quality reviewers score cases but do not change them")


async def may_change_checks(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Quality checks: auditors read them and change nothing; who else may do what, the check's rules say."""
    if connection.user.role == Role.AUDITOR:
        raise PermissionDeniedException("auditors may read but not change quality checks")


async def supervising_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Reviews, samples, assessments: a supervisor's or a manager's to make."""
    if connection.user.role not in SUPERVISING_ROLES:
        raise PermissionDeniedException("only supervisors and managers may do this")


async def managers_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The department's set-up (users, teams, routing) is the manager's."""
    if connection.user.role != Role.MANAGER:
        raise PermissionDeniedException("only managers may change users, teams and routing")
