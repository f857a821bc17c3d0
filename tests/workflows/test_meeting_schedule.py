"""The regular meetings (例会) made ahead by the daily schedule, on a real Temporal dev server, in Asia/Shanghai."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client

from service.cases import Cases, WorkflowConfig
from service.directory import Directory
from service.meetings import Meetings
from service.read_model import ReadModel, create_engine
from service.reviews import Reviews
from service.teams import Department
from states.case import Actor
from states.meeting_plan import parse_meeting_plan
from tests.conftest import SCHEDULES_NAMESPACE
from tests.support import DUE, eventually
from workflows.inputs import ActInput
from workflows.meetings import SCHEDULE_ID, ensure_meeting_schedule
from workflows.notifications import Webhook
from workflows.worker import build_worker

SHANGHAI = "Asia/Shanghai"


@pytest.fixture
async def meeting_stack(temporal_env, tmp_path):
    """A read model with supervisors sam and sue and manager mia, a worker that makes meetings on its own
    queue, in a namespace where no other worker made the coming meetings (tests/conftest.py)."""
    client = Client(temporal_env.client.service_client, namespace=SCHEDULES_NAMESPACE, data_converter=temporal_env.client.data_converter)
    read_model = ReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/meetings.db"))
    await read_model.upgrade()
    directory = Directory(read_model)
    for name, role in (("sam", "supervisor"), ("sue", "supervisor"), ("mia", "manager"), ("ann", "agent")):
        await directory.add(name, role, None)
    queue = f"meetings-{time.monotonic_ns()}"
    plan = parse_meeting_plan({"weekly": {"weekday": "fri", "time": "16:00", "place": "3楼会议室", "rotation": ["sam", "sue"]}}, SHANGHAI)
    reviews = Reviews(read_model, ZoneInfo(SHANGHAI))
    cases = Cases(client, read_model, WorkflowConfig(queue, reopen_window_seconds=3600, events_per_run=500))
    meetings = Meetings(cases, read_model, reviews, plan, ahead=2)
    worker = build_worker(client, read_model, read_model, Webhook(), reviews, queue, meetings=meetings, sandboxed=True)
    try:
        async with worker:
            yield read_model, meetings, queue, client
    finally:
        await read_model.close()


async def test_the_next_weekly_and_monthly_meetings_are_made_once_with_rotated_hosts_and_an_agenda(meeting_stack):
    read_model, meetings, _, _ = meeting_stack
    # sam's turn would be Friday 2027-03-05 (or sue's); whoever it is, they are away that day.
    _, planned = await meetings.upcoming(datetime(2027, 3, 1, tzinfo=UTC))
    first = planned[0]
    assert first.case_id == "meeting-weekly-2027-03-05" and first.scheduled_at == datetime(2027, 3, 5, 8, tzinfo=UTC)
    away, other = first.host, ({"sam", "sue"} - {first.host}).pop()
    await Department(read_model, SHANGHAI).set_away("mia", away, datetime(2027, 3, 4, tzinfo=UTC), datetime(2027, 3, 6, tzinfo=UTC))

    made = await meetings.make_upcoming("2027-03-01T00:00:00Z")
    assert made == ["meeting-weekly-2027-03-05", "meeting-weekly-2027-03-12", "meeting-monthly-2027-03"]
    assert await meetings.make_upcoming("2027-03-01T00:00:00Z") == []  # a second run makes nothing twice

    weekly = await read_model.get_case("meeting-weekly-2027-03-05")
    assert weekly["kind"] == "meeting" and weekly["state"] == "report" and weekly["title"] == "周例会 2027-03-05"
    assert weekly["data"]["meeting_type"] == "weekly" and weekly["data"]["scheduled_at"] == "2027-03-05T08:00:00.000000Z"
    assert weekly["data"]["host"] == other and weekly["data"]["place"] == "3楼会议室"
    assert weekly["owner"] == other  # the host owns it, not the system that scheduled it
    assert {"sam", "sue"} <= set(weekly["data"]["participants"]) and "mia" not in weekly["data"]["participants"]
    review = weekly["data"]["review"]
    assert set(review) >= {"review_id", "period", "kpis", "agents", "open_incidents", "open_improvement_plans", "open_tasks"}
    assert review["period"] == {"from": "2027-02-21T16:00:00.000000Z", "to": "2027-02-28T16:00:00.000000Z"}  # the last whole week in Shanghai
    assert set(review["kpis"]["volume"]) == {"current", "previous", "delta"}
    following = await read_model.get_case("meeting-weekly-2027-03-12")
    assert following["data"]["host"] in {"sam", "sue"}
    # Each agenda covers the last whole period before its own meeting, not before the run.
    assert following["data"]["review"]["period"] == {"from": "2027-02-28T16:00:00.000000Z", "to": "2027-03-07T16:00:00.000000Z"}
    monthly = await read_model.get_case("meeting-monthly-2027-03")
    # The last Friday of March 2027, 14:00 in Shanghai, hosted by the manager.
    assert monthly["data"]["scheduled_at"] == "2027-03-26T06:00:00.000000Z" and monthly["data"]["host"] == "mia"
    assert monthly["data"]["meeting_type"] == "monthly" and monthly["owner"] == "mia" and "mia" in monthly["data"]["participants"]
    assert monthly["data"]["review"]["period"] == {"from": "2027-01-31T16:00:00.000000Z", "to": "2027-02-28T16:00:00.000000Z"}


async def test_the_daily_run_refreshes_the_agenda_and_the_host_of_meetings_not_yet_held(meeting_stack):
    read_model, meetings, _, _ = meeting_stack
    assert await meetings.make_upcoming("2027-04-05T00:00:00Z") == [
        "meeting-weekly-2027-04-09",
        "meeting-weekly-2027-04-16",
        "meeting-monthly-2027-04",
    ]
    later = await read_model.get_case("meeting-weekly-2027-04-16")
    planned, other = later["data"]["host"], ({"sam", "sue"} - {later["data"]["host"]}).pop()
    # Leave entered after the meeting was made, and a task decided at the first meeting.
    await Department(read_model, SHANGHAI).set_away("mia", planned, datetime(2027, 4, 15, tzinfo=UTC), datetime(2027, 4, 17, tzinfo=UTC))
    sam = Actor("sam", "supervisor")
    first = "meeting-weekly-2027-04-09"
    await meetings._cases.act(first, ActInput("record_attendance", sam, data={"attended": ["sam", "sue"]}, request_id="held"))
    await meetings._cases.act(first, ActInput("add_action_item", sam, data={"title": "午间排班", "owner": "ann", "due": DUE}, request_id="task"))

    assert await meetings.make_upcoming("2027-04-06T00:00:00Z") == []
    refreshed = await read_model.get_case("meeting-weekly-2027-04-16")
    assert refreshed["data"]["host"] == other and refreshed["owner"] == other
    assert [task["title"] for task in refreshed["data"]["review"]["open_tasks"]] == ["午间排班"]
    history = [event["action"] for event in await meetings._cases.history("meeting-weekly-2027-04-16")]
    assert history[-2:] == ["refresh_agenda", "change_host"]
    held = [event["action"] for event in await meetings._cases.history(first)]
    assert "refresh_agenda" not in held, "a meeting already held keeps its agenda"
    # Nothing changed since: a second run records nothing.
    await meetings.make_upcoming("2027-04-06T00:00:00Z")
    assert len(await meetings._cases.history("meeting-weekly-2027-04-16")) == len(history)


async def test_the_daily_schedule_runs_in_shanghai_and_makes_the_coming_meetings_at_once(meeting_stack):
    read_model, meetings, queue, client = meeting_stack
    _, planned = await meetings.upcoming(datetime.now(UTC))
    await ensure_meeting_schedule(client, queue, SHANGHAI)  # runs it once now: no waiting for 07:00
    await ensure_meeting_schedule(client, queue, SHANGHAI)  # a second worker starting changes nothing
    handle = client.get_schedule_handle(SCHEDULE_ID)
    try:
        described = await handle.describe()
        assert described.schedule.spec.time_zone_name == SHANGHAI
        next_run = described.info.next_action_times[0].astimezone(ZoneInfo(SHANGHAI))
        assert (next_run.hour, next_run.minute) == (7, 0)
        for case_id in [meeting.case_id for meeting in planned]:

            async def made(case_id: str = case_id) -> dict | None:
                return await read_model.get_case(case_id)

            # The run makes each meeting's agenda from a review of the whole read model: slow late in a full run.
            await eventually(made, 120, case_id)
    finally:
        await handle.delete()
