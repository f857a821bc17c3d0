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
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        user = find_user(self._users, token.strip())
        if user is None:
            raise NotAuthorizedException("unknown token")
        return AuthenticationResult(user=user, auth=None)


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
