"""Messages over HTTP: one's own inbox (站内信) and notification settings, and the delivery log of every
attempt (supervisors, managers, auditors). Auditors change nothing but their own messages' read mark."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, TypeAlias

from litestar import Controller, Request, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import Meta, Struct

from api.errors import problems
from api.schemas import one_of
from service.notifications import MAX_PAGE, Attempt, InboxItem, Notifications
from states.case import format_time
from states.vocabulary import DeliveryStatus, MessageKind, Role

if TYPE_CHECKING:
    Kind: TypeAlias = str
    Status: TypeAlias = str
else:
    Kind = one_of(MessageKind)
    Status = one_of(DeliveryStatus)

LOG_READERS = (Role.SUPERVISOR, Role.MANAGER, Role.AUDITOR)
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="at most this many")]
# Inbox and delivery-log ids are INTEGER columns (32-bit on PostgreSQL): a larger number names nothing,
# and the database would refuse it (a 500) instead of finding nothing.
MAX_ROW_ID = 2**31 - 1
ItemId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, description="the inbox message's id")]


async def may_read_log(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in LOG_READERS:
        raise PermissionDeniedException("only supervisors, managers and auditors read the delivery log")


async def not_auditors(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Auditors change nothing, their own preferences included; marking their own messages read is all."""
    if connection.user.role == Role.AUDITOR:
        raise PermissionDeniedException("auditors change nothing but their own messages' read mark")


class InboxMessage(Struct):
    id: int
    message_id: str
    kind: Kind
    case_id: str | None
    subject: str
    text: str
    link: str | None
    created_at: str
    read: bool
    read_at: str | None


class Inbox(Struct):
    items: list[InboxMessage]
    unread: int
    # The offset of the next page; null: no more.
    next_offset: int | None


class Unread(Struct):
    unread: int


class Preferences(Struct):
    """The kinds of message the caller turned off (every other kind is on)."""

    off: Annotated[list[Kind], Meta(max_length=len(MessageKind))]


class DeliveryAttempt(Struct):
    id: int
    message_id: str
    kind: Kind
    case_id: str | None
    channel: str
    language: str
    recipients: list[str]
    attempt: int
    status: Status
    status_code: int | None
    error: str | None
    at: str


class DeliveryLog(Struct):
    items: list[DeliveryAttempt]
    # Pass as `before` for the next (older) page; null: no more.
    next_before: int | None


def _inbox_out(item: InboxItem) -> InboxMessage:
    read_at = format_time(item.read_at) if item.read_at else None
    return InboxMessage(item.id, item.message_id, item.kind, item.case_id, item.subject, item.text, item.link,
                        format_time(item.created_at), read_at is not None, read_at)  # fmt: skip


def _attempt_out(attempt: Attempt) -> DeliveryAttempt:
    return DeliveryAttempt(attempt.id, attempt.message_id, attempt.kind, attempt.case_id, attempt.channel, attempt.language,
                           attempt.recipients, attempt.attempt, attempt.status, attempt.status_code, attempt.error, format_time(attempt.at))  # fmt: skip


class InboxController(Controller):
    path = "/inbox"
    tags = ["notifications"]

    @get("/", summary="The caller's messages, unread first, then newest", responses=problems(400, 422))
    async def inbox(
        self,
        request: Request,
        notifications: NamedDependency[Notifications],
        limit: Limit = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_ROW_ID)] = 0,
    ) -> Inbox:
        items = await notifications.inbox(request.user.name, limit, offset)
        more = offset + limit if len(items) == limit else None
        return Inbox([_inbox_out(item) for item in items], await notifications.unread(request.user.name), more)

    @get("/unread", summary="How many of the caller's messages are unread (the console's bell)", responses=problems(400))
    async def unread(self, request: Request, notifications: NamedDependency[Notifications]) -> Unread:
        return Unread(await notifications.unread(request.user.name))

    @post("/{item_id:int}/read", status_code=200, summary="Mark one of the caller's own messages read", responses=problems(400, 404, 422))
    async def mark_read(self, request: Request, item_id: ItemId, notifications: NamedDependency[Notifications]) -> Unread:
        if not await notifications.mark_read(request.user.name, item_id):
            raise NotFoundException(f"no message {item_id} in your inbox")
        return Unread(await notifications.unread(request.user.name))


class PreferencesController(Controller):
    path = "/me/notifications"
    tags = ["notifications"]

    @get("/", summary="The kinds of message the caller turned off", responses=problems(400))
    async def preferences(self, request: Request, notifications: NamedDependency[Notifications]) -> Preferences:
        return Preferences(sorted(await notifications.turned_off(request.user.name)))

    @put(
        "/",
        guards=[not_auditors],
        summary="Turn kinds of message off for oneself (every kind not listed is on; not auditors)",
        responses=problems(400, 403, 422),
    )
    async def set_preferences(self, request: Request, data: JSONBody[Preferences], notifications: NamedDependency[Notifications]) -> Preferences:
        return Preferences(sorted(await notifications.set_turned_off(request.user.name, data.off)))


class DeliveryLogController(Controller):
    path = "/notifications"
    tags = ["notifications"]
    guards = [may_read_log]

    @get("/", summary="Every delivery attempt over every channel, newest first (supervisors, managers, auditors)", responses=problems(400, 403, 422))
    async def attempts(
        self,
        notifications: NamedDependency[Notifications],
        case_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        channel: Annotated[str | None, QueryParameter(max_length=100)] = None,
        status: Annotated[Status | None, QueryParameter(description="delivered, failed, logged or skipped")] = None,
        limit: Limit = 50,
        before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID)] = None,
    ) -> DeliveryLog:
        items = await notifications.attempts(case_id, channel, status, limit, before)
        return DeliveryLog([_attempt_out(item) for item in items], items[-1].id if len(items) == limit else None)
