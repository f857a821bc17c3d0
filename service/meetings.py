"""The regular meetings (例会): which are coming and who hosts them, and making each ahead of time
with its agenda from the period's review (docs/meetings.md).

The daily schedule (workflows/meetings.py) calls `make_upcoming`; each meeting's case id is
deterministic (states/meeting_plan.py) and its opening request id too, so a second run, or two
workers at once, create nothing twice.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from service.cases import Cases
from service.directory import Directory
from service.read_model import ReadModel
from service.reviews import SCHEDULED_BY, Reviews, period_before
from service.settings import User
from service.tables import cases
from states.case import Actor, Report, format_time, parse_time
from states.kpi_names import KPI_NAMES
from states.meeting import CHANGE_HOST, REFRESH_AGENDA
from states.meeting_plan import Away, Meeting, MeetingPlan, is_away, rotation_order, upcoming
from states.vocabulary import SYSTEM, Kind, MeetingType, Phase, Role
from workflows.inputs import ActInput

log = logging.getLogger("casework.meetings")

# A meeting's title (the case's content, in the department's language; labels stay in the catalogs).
TITLES = {MeetingType.WEEKLY: "周例会", MeetingType.MONTHLY: "月例会"}
# A meeting type's review cadence: the same words (weekly, monthly).
CADENCES = {meeting_type: meeting_type.value for meeting_type in MeetingType}
# The agent figures an agenda carries from the review's table of agents.
AGENT_FIGURES = (
    "cases",
    "solved",
    "complaints_handled",
    "first_response_mean_seconds",
    "handling_mean_seconds",
    "satisfied_share",
    "quality_mean_score",
    "quality_checks",
)
MAX_ROWS = 200  # a case's free-form data holds lists of at most this many (states/spec.py)


class Meetings:
    def __init__(self, cases_: Cases, read_model: ReadModel, reviews: Reviews, plan: MeetingPlan, ahead: int = 2, configured: tuple[User, ...] = ()):
        self._cases = cases_
        self._read_model = read_model
        self._directory = Directory(read_model)
        self._reviews = reviews
        self._plan = plan
        self._ahead = ahead
        self._configured = configured

    @property
    def plan(self) -> MeetingPlan:
        return self._plan

    async def upcoming(self, now: datetime, weeks: int | None = None) -> tuple[list[str], list[Meeting]]:
        """The rotation's order, and the next `weeks` weekly meetings and the next monthly one with their hosts."""
        supervisors = await self._directory.enabled_names(Role.SUPERVISOR, self._configured)
        managers = await self._directory.enabled_names(Role.MANAGER, self._configured)
        away = await self._away()
        order = rotation_order(self._plan, supervisors)
        return order, upcoming(self._plan, now, weeks or self._ahead, supervisors, managers, away)

    async def rotation(self, now: datetime, weeks: int) -> dict[str, Any]:
        """GET /meetings/rotation: the order, the next weekly meetings and the next monthly one."""
        order, meetings = await self.upcoming(now, weeks)
        existing = {meeting.case_id: await self._read_model.get_case(meeting.case_id) is not None for meeting in meetings}
        shown = [_as_dict(meeting, existing[meeting.case_id]) for meeting in meetings]
        return {
            "timezone": self._plan.timezone,
            "order": order,
            "weekly": [meeting for meeting in shown if meeting["meeting_type"] == MeetingType.WEEKLY],
            "monthly": next(meeting for meeting in shown if meeting["meeting_type"] == MeetingType.MONTHLY),
        }

    async def make_upcoming(self, by: str) -> list[str]:
        """Create the meetings due next (as of `by`, the schedule's time) that do not exist yet, and
        refresh those made earlier and not yet held (`refresh`); the ids of those made."""
        supervisors = await self._directory.enabled_names(Role.SUPERVISOR, self._configured)
        managers = await self._directory.enabled_names(Role.MANAGER, self._configured)
        away = await self._away()
        meetings = upcoming(self._plan, parse_time(by), self._ahead, supervisors, managers, away)
        made = []
        reviews: dict[tuple[str, str], dict[str, Any]] = {}  # one review per cadence, period and run
        for meeting in meetings:
            review = await self._review_for(meeting, reviews)
            existing = await self._read_model.get_case(meeting.case_id)
            if existing is not None:
                await self.refresh(existing, meeting, review, away, by)
                continue
            report = Report(
                kind=Kind.MEETING,
                title=f"{TITLES[meeting.meeting_type]} {meeting.local_day.isoformat()}",
                data=await self._report_data(meeting, review),
            )
            await self._cases.open(report, Actor(SYSTEM), None, f"schedule-{meeting.case_id}", case_id=meeting.case_id)
            log.info("scheduled %s", meeting.case_id)
            made.append(meeting.case_id)
        return made

    async def refresh(self, case: dict[str, Any], meeting: Meeting, review: dict[str, Any], away: Away, by: str) -> None:
        """A meeting made ahead and not yet held (still in report): its agenda's figures and open tasks
        brought up to date (`refresh_agenda`, when they changed), and when the host planned is away on
        its day, the host the rotation gives now (`change_host`: the participants are told). Both are
        case actions, so the history shows them; leave entered before the meeting was made was
        already taken into account when it was made."""
        if case["state"] != Phase.REPORT:
            return
        agenda = await self.agenda(meeting, review)
        if agenda != case["data"].get("review"):
            await self._act(case["id"], REFRESH_AGENDA.name, {"review": agenda}, by)
        planned = case["data"].get("host")
        if planned and is_away(planned, meeting.scheduled_at, away) and meeting.host and meeting.host != planned:
            reason = f"{planned} is away on {meeting.local_day.isoformat()}"
            await self._act(case["id"], CHANGE_HOST.name, {"host": meeting.host, "reason": reason}, by)

    async def _act(self, case_id: str, action: str, data: dict[str, Any], by: str) -> None:
        request = ActInput(action, Actor(SYSTEM, SYSTEM), data=data, request_id=f"{action}-{case_id}-{by}")
        await self._cases.act(case_id, request)
        log.info("%s %s", action, case_id)

    async def _away(self) -> Away:
        return {person.name: (person.away_from, person.away_to) for person in await self._directory.people() if person.away_from is not None}

    async def _review_for(self, meeting: Meeting, reviews: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
        """The review of the last whole period before the meeting's own day (not before the run's
        time: a meeting made two weeks ahead discusses the period just before it), made once per run."""
        cadence = CADENCES[meeting.meeting_type]
        period = period_before(meeting.scheduled_at, cadence, ZoneInfo(self._plan.timezone))
        key = (cadence, period.start.isoformat())
        if key not in reviews:
            reviews[key] = await self._reviews.make(cadence, period, SCHEDULED_BY, datetime.now(UTC))
        return reviews[key]

    async def _report_data(self, meeting: Meeting, review: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "meeting_type": meeting.meeting_type,
            "scheduled_at": format_time(meeting.scheduled_at),
            "review": await self.agenda(meeting, review),
        }
        if meeting.place:
            data["place"] = meeting.place
        if meeting.host:
            data["host"] = meeting.host
        data["participants"] = await self._participants(meeting)
        return data

    async def _participants(self, meeting: Meeting) -> list[str]:
        """Who is expected: the supervisors and agents, and for the monthly meeting the managers too."""
        roles = [Role.SUPERVISOR, Role.AGENT] + ([Role.MANAGER] if meeting.meeting_type == MeetingType.MONTHLY else [])
        names = [name for role in roles for name in await self._directory.enabled_names(role, self._configured)]
        return list(dict.fromkeys(names))[:MAX_ROWS]

    async def agenda(self, meeting: Meeting, review: dict[str, Any]) -> dict[str, Any]:
        """The agenda's figures: the last whole period's review (made again by the run, so it is
        current), compact — numbers and case ids, no customer data — and the tasks earlier meetings left open."""
        return {
            "review_id": review["id"],
            "period": review["period"],
            "kpis": {name: {part: _finite(value) for part, value in review["deltas"][name].items()} for name in KPI_NAMES},
            "agents": [
                {"name": row["name"], **{name: _finite(row.get(name)) for name in AGENT_FIGURES}, "missed": ", ".join(row.get("missed", []))}
                for row in review["agents"][:MAX_ROWS]
            ],
            "open_incidents": [case["id"] for case in review["open_incidents"]],
            "open_improvement_plans": [case["id"] for case in review["open_improvement_plans"]],
            "open_tasks": (await self._open_tasks(meeting.case_id))[:MAX_ROWS],
        }

    async def _open_tasks(self, this_meeting: str) -> list[dict[str, Any]]:
        """The action items still open on meetings not closed yet: followed up at this one."""
        query = select(cases.c.snapshot).where(cases.c.kind == Kind.MEETING, cases.c.state != Phase.CLOSED, cases.c.id != this_meeting)
        async with self._read_model.engine.connect() as connection:
            snapshots = (await connection.execute(query.order_by(cases.c.created_at))).scalars().all()
        return [
            {"case_id": snapshot["id"], "item_id": item["id"], "title": item["title"], "owner": item["owner"], "due": item["due"]}
            for snapshot in snapshots
            for item in snapshot.get("action_items", [])
            if not item.get("done")
        ]


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _as_dict(meeting: Meeting, exists: bool) -> dict[str, Any]:
    return {
        "meeting_type": meeting.meeting_type,
        "case_id": meeting.case_id,
        "date": meeting.local_day.isoformat(),
        "scheduled_at": format_time(meeting.scheduled_at),
        "place": meeting.place,
        "host": meeting.host,
        "scheduled": exists,
    }
