"""Bearer-token authentication and role guards."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from service.settings import User, hash_token
from states.vocabulary import Role

PUBLIC_PATHS = ["^/health$", "^/schema"]


class TokenAuthentication(AbstractAuthenticationMiddleware):
    def __init__(self, app, users: tuple[User, ...], **kwargs):
        super().__init__(app, **kwargs)
        self._users = users

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
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


def may_change(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Auditors read everything and change nothing."""
    if connection.user.role == Role.AUDITOR:
        raise PermissionDeniedException("auditors may read but not change cases")
