"""The meetings page (例会): the coming weekly and monthly meetings with their hosts, the rotation, and
the meetings that exist (ad hoc ones, past and closed ones with their minutes) from the read model.
A meeting itself is a case: its page (case_pages.py) shows its agenda, attendance, tasks and the minutes form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get

from api.console.case_pages import person_label
from api.console.render import page, viewer_of
from api.console.session import csrf_checked
from service.read_model import CaseFilter
from states.vocabulary import Kind, MeetingType

WEEKS_SHOWN = 4
MEETINGS_LISTED = 30  # the newest meetings of each kind (例会, 紧急会议) the page lists


class MeetingPages(Controller):
    path = "/ui/meetings"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/")
    async def meetings(self, request: Request) -> Response:
        rotation = await request.app.state.meetings.rotation(datetime.now(UTC), WEEKS_SHOWN)
        upcoming = sorted([*rotation["weekly"], rotation["monthly"]], key=lambda meeting: meeting["scheduled_at"])
        people = await request.app.state.directory.people()
        names = {person.name: person_label(person.name, person.display_name) for person in people}
        away = sorted(names.get(person.name, person.name) for person in people if person.away_from is not None and _away_now(person))
        return page(
            request,
            "meetings.html",
            rotation=rotation,
            upcoming=upcoming,
            held=await _meetings_held(request),
            names=names,
            away=away,
            monthly=MeetingType.MONTHLY,
            next_host=next((meeting["host"] for meeting in rotation["weekly"] if meeting.get("host")), None),
        )


def _away_now(person: Any) -> bool:
    now = datetime.now(UTC)
    return person.away_from <= now and (person.away_to is None or now < person.away_to)


async def _meetings_held(request: Request) -> list[dict[str, Any]]:
    """The meeting cases that exist (例会 and 紧急会议), the viewer may see, newest meeting first."""
    viewer = await viewer_of(request)
    cases: list[dict[str, Any]] = []
    for kind in (Kind.MEETING, Kind.INCIDENT):
        cases += (await request.app.state.read_model.list_cases(viewer.narrowed(CaseFilter(kind=kind)), MEETINGS_LISTED)).items
    return sorted(cases, key=_when, reverse=True)


def _when(case: dict[str, Any]) -> str:
    data = case.get("data") or {}
    minutes: dict[str, Any] = data["minutes"] if isinstance(data.get("minutes"), dict) else {}
    return str(minutes.get("held_at") or data.get("held_at") or data.get("scheduled_at") or data.get("occurred_at") or case.get("created_at") or "")
