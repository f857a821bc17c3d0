"""The console's messages: the bell (unread count, polled), the inbox (站内信) with mark-read, each
user's own notification settings, and the delivery log for those who oversee. The same service as
the JSON API (service/notifications.py)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, PathParameter, QueryParameter

from api.console.render import language_of, page
from api.console.session import csrf_checked
from api.console.sign_in_pages import Form, see_other
from api.labels import has_label, label
from api.notifications import MAX_ROW_ID, may_read_log, not_auditors
from service.notifications import Attempt
from states.notification_rules import kinds_for_role
from states.vocabulary import ChannelType, DeliveryStatus, MessageKind, Role

# The catalogs' context of the machine codes a failed or skipped attempt carries (turned_off,
# no_address, signature_refused, …): a row shows the code's label, else the attempt's own text.
ERROR_CONTEXT = "delivery_error"
CODED = re.compile(r"^([a-z][a-z0-9_]*):")

ItemId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
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
    async def settings(self, request: Request, saved: FromQuery[bool] = False) -> Response:
        notifications = request.app.state.notifications
        off = await notifications.turned_off(request.user.name)
        kinds = kinds_for_role(notifications.policy, request.user.role)
        addresses = await notifications.addresses(request.user.name)
        may_change = request.user.role != Role.AUDITOR  # the API's not_auditors guards the saving
        return page(request, "notification_settings.html", kinds=kinds, off=off, saved=saved, addresses=addresses, may_change=may_change)

    @post("/settings/notifications", guards=[not_auditors])
    async def save_settings(self, request: Request, data: Form) -> Response:
        notifications = request.app.state.notifications
        shown = kinds_for_role(notifications.policy, request.user.role)
        # Kinds the page did not show keep what they were.
        kept = [kind for kind in await notifications.turned_off(request.user.name) if MessageKind(kind) not in shown]
        off = [kind for kind in shown if data.get(kind.value) != "on"] + kept
        await notifications.set_turned_off(request.user.name, off)
        return see_other("/ui/settings/notifications?saved=true", request)

    @get("/notifications", guards=[may_read_log])
    async def delivery_log(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(max_length=100)] = None,
        channel: Annotated[str | None, QueryParameter(max_length=100)] = None,
        case_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        before: Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID)] = None,
    ) -> Response:
        """The delivery log, filtered by case, channel and status like GET /notifications, a page at a
        time: the "older" link carries the API's `before` cursor."""
        status = status if status in set(DeliveryStatus) else None
        channel = (channel or "").strip()[:100] or None
        case_id = (case_id or "").strip()[:64] or None
        attempts = await request.app.state.notifications.attempts(case_id, channel, status, PAGE_SIZE, before)
        filters = {key: value for key, value in (("case_id", case_id), ("channel", channel), ("status", status)) if value}
        older = f"/ui/notifications?{urlencode({**filters, 'before': attempts[-1].id})}" if len(attempts) == PAGE_SIZE else None
        language = language_of(request)
        rows = [_row(attempt, language) for attempt in attempts]
        return page(
            request, "delivery_log.html", rows=rows, statuses=list(DeliveryStatus), status=status, channel=channel, case_id=case_id, older=older
        )


def _row(attempt: Attempt, language: str) -> dict[str, Any]:
    """An attempt as the log shows it: a channel that is a channel type (the inbox) by its label, any
    other by its configured name; the error by its code's label when it has a code the catalogs know."""
    channel = label(language, "channel_type", attempt.channel) if attempt.channel in set(ChannelType) else attempt.channel
    text = attempt.error or ""
    code = getattr(attempt, "error_code", None) or _code_of(text)
    error = label(language, ERROR_CONTEXT, code) if code and has_label(language, ERROR_CONTEXT, code) else text
    return {"attempt": attempt, "channel": channel, "error": error, "detail": text if error != text else ""}


def _code_of(error: str) -> str | None:
    """The machine code an attempt's error starts with ("turned_off: …", "http_500: …"), if any."""
    match = CODED.match(error)
    return match[1] if match else None
