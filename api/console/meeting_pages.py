"""The meetings page (例会): the coming weekly and monthly meetings with their hosts, and the rotation.
A meeting itself is a case: its page (case_pages.py) shows its agenda, attendance, tasks and the minutes form."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Request, Response, get

from api.console.render import page
from api.console.session import csrf_checked

WEEKS_SHOWN = 4


class MeetingPages(Controller):
    path = "/ui/meetings"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/")
    async def meetings(self, request: Request) -> Response:
        rotation = await request.app.state.meetings.rotation(datetime.now(UTC), WEEKS_SHOWN)
        upcoming = sorted([*rotation["weekly"], rotation["monthly"]], key=lambda meeting: meeting["scheduled_at"])
        return page(request, "meetings.html", rotation=rotation, upcoming=upcoming)
