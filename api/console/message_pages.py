"""The console's messages: the bell (unread count, polled), the inbox (站内信) with mark-read, each
user's own notification settings, and the delivery log for those who oversee. The same service as
the JSON API (service/notifications.py)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import PathParameter

from api.console.render import OVERSEEING_ROLES, page
from api.console.session import csrf_checked
from api.console.sign_in_pages import Form, see_other
from states.notification_rules import kinds_for_role
from states.vocabulary import DeliveryStatus, MessageKind, Role

ItemId = Annotated[int, PathParameter(ge=1)]
PAGE_SIZE = 100


class MessagePages(Controller):
    path = "/ui"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/inbox")
    async def inbox(self, request: Request) -> Response:
        notifications = request.app.state.notifications
        items = await notifications.inbox(request.user.name, PAGE_SIZE)
        return page(request, "inbox.html", items=items, unread=await notifications.unread(request.user.name))

    @get("/inbox/bell")
    async def bell(self, request: Request) -> Response:
        return page(request, "_bell.html", unread=await request.app.state.notifications.unread(request.user.name))

    @post("/inbox/{item_id:int}/read")
    async def mark_read(self, request: Request, item_id: ItemId) -> Response:
        if not await request.app.state.notifications.mark_read(request.user.name, item_id):
            raise NotFoundException(f"no message {item_id} in your inbox")
        return see_other("/ui/inbox", request)

    @post("/inbox/{item_id:int}/open")
    async def open_message(self, request: Request, item_id: ItemId) -> Response:
        """查看案件 from the inbox: a POST (CSRF-checked form styled as a link), since it changes the
        read mark: marks one's own message read, then goes to its case (or back to the inbox)."""
        notifications = request.app.state.notifications
        item = await notifications.inbox_item(request.user.name, item_id)
        if item is None or not await notifications.mark_read(request.user.name, item_id):
            raise NotFoundException(f"no message {item_id} in your inbox")
        return see_other(f"/ui/cases/{item.case_id}" if item.case_id else "/ui/inbox", request)

    @get("/settings/notifications")
    async def settings(self, request: Request, saved: bool = False) -> Response:
        notifications = request.app.state.notifications
        off = await notifications.turned_off(request.user.name)
        kinds = kinds_for_role(notifications.policy, request.user.role)
        addresses = await notifications.addresses(request.user.name)
        return page(request, "notification_settings.html", kinds=kinds, off=off, saved=saved, addresses=addresses)

    @post("/settings/notifications")
    async def save_settings(self, request: Request, data: Form) -> Response:
        if request.user.role == Role.AUDITOR:
            raise PermissionDeniedException("auditors change nothing but their own messages' read mark")
        notifications = request.app.state.notifications
        shown = kinds_for_role(notifications.policy, request.user.role)
        # Kinds the page did not show keep what they were.
        kept = [kind for kind in await notifications.turned_off(request.user.name) if MessageKind(kind) not in shown]
        off = [kind for kind in shown if data.get(kind.value) != "on"] + kept
        await notifications.set_turned_off(request.user.name, off)
        return see_other("/ui/settings/notifications?saved=true", request)

    @get("/notifications")
    async def delivery_log(self, request: Request, status: str | None = None, channel: str | None = None) -> Response:
        if request.user.role not in OVERSEEING_ROLES:
            raise PermissionDeniedException("only supervisors, managers and auditors read the delivery log")
        status = status if status in set(DeliveryStatus) else None
        attempts = await request.app.state.notifications.attempts(None, (channel or "")[:100] or None, status, PAGE_SIZE)
        return page(request, "delivery_log.html", attempts=attempts, statuses=list(DeliveryStatus), status=status)
