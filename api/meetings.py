"""The regular meetings' rotation (例会): who hosts the next weekly meetings and the next monthly one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from msgspec import Struct

from api.errors import problems
from service.meetings import Meetings

MAX_WEEKS = 26


class UpcomingMeeting(Struct):
    meeting_type: str
    case_id: str
    date: str  # the day in the department's time zone
    scheduled_at: str
    place: str
    host: str | None
    scheduled: bool  # its case exists already


class Rotation(Struct):
    timezone: str
    order: list[str]  # the supervisors' hosting order for weekly meetings
    weekly: list[UpcomingMeeting]
    monthly: UpcomingMeeting


class MeetingController(Controller):
    path = "/meetings"
    tags = ["meetings"]

    @get("/rotation", summary="The hosting order, the next weekly meetings with their hosts, and the next monthly one", responses=problems(400, 422))
    async def rotation(self, meetings: NamedDependency[Meetings], weeks: Annotated[int, QueryParameter(ge=1, le=MAX_WEEKS)] = 4) -> Rotation:
        return msgspec.convert(await meetings.rotation(datetime.now(UTC), weeks), Rotation)
