"""The regular meetings (例会) over HTTP: an ad-hoc one by a supervisor, its walk, and the rotation."""

from __future__ import annotations

from datetime import date

from service.holidays import official_holidays
from service.settings import Settings
from states.case import parse_time
from states.sla_policy import department_calendar, parse_policy, policy_for_kind
from states.vocabulary import Kind, RefusalCode
from tests.conftest import auth
from tests.support import MEETING_WALK, MINUTES


async def test_a_supervisor_opens_a_meeting_and_an_agent_may_not(api):
    await api.open("meeting", role="agent", status=403)
    case = await api.open(
        "meeting",
        role="supervisor",
        title="临时周例会",
        data={"meeting_type": "weekly", "scheduled_at": "2026-12-04T08:00:00Z", "host": "sam", "recorder": "ann", "participants": ["ann", "sam"]},
    )
    assert case["kind"] == "meeting" and case["state"] == "report" and "record_attendance" in case["allowed_actions"]
    walked = await api.take(case["id"], MEETING_WALK)
    assert walked["state"] == "closed" and walked["data"]["minutes"]["decisions"] == "午间加一名客服"
    history = await api.history(case["id"])
    assert [event["action"] for event in history][-3:] == ["publish_minutes", "complete_action_item", "close"]


async def test_attendance_and_participants_name_people_of_the_directory(api):
    data = {"meeting_type": "weekly", "scheduled_at": "2026-12-04T08:00:00Z", "host": "sam", "participants": ["ann", "nobody-here"]}
    problem = await api.open("meeting", role="supervisor", title="名单", data=data, status=422)
    assert problem["field"] == "data.participants[1]"
    case = await api.open("meeting", role="supervisor", title="名单", data={**data, "participants": ["ann"]})
    problem = await api.act(case["id"], "record_attendance", role="supervisor", data={"attended": ["ann"], "absent": ["bob-not-here"]}, status=422)
    assert problem["field"] == "data.absent[0]"
    await api.act(case["id"], "record_attendance", role="supervisor", data={"attended": ["ann", "sam"], "absent": ["bo"]})


async def test_a_meeting_with_an_unknown_type_is_refused_naming_the_field(api):
    response = await api.client.post("/cases", json={"kind": "meeting", "title": "t", "data": {"meeting_type": "daily"}}, headers=auth("supervisor"))
    assert response.status_code == 422 and "meeting_type" in response.text


async def test_the_rotation_lists_the_next_weekly_hosts_in_order_and_the_manager_for_the_monthly(http):
    response = await http.get("/meetings/rotation", params={"weeks": 3}, headers=auth("agent"))
    assert response.status_code == 200, response.text
    rotation = response.json()
    # Without a configured order: every supervisor by name (others' tests may add some to the directory).
    order = rotation["order"]
    assert rotation["timezone"] == "Asia/Shanghai" and "sam" in order and order == sorted(order)
    weekly = rotation["weekly"]
    assert len(weekly) == 3 and all(meeting["host"] in order for meeting in weekly)
    days = [date.fromisoformat(meeting["date"]) for meeting in weekly]
    assert all(day.weekday() == 4 for day in days) and [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [7, 7]
    assert rotation["monthly"]["host"] is not None and rotation["monthly"]["case_id"].startswith("meeting-monthly-")
    assert (await http.get("/meetings/rotation")).status_code == 401


async def test_the_machines_list_the_meeting_kind(http):
    machines = (await http.get("/machines", headers=auth("agent"))).json()["items"]
    assert "meeting" in [machine["kind"] for machine in machines]
    meeting = (await http.get("/machines/meeting", headers=auth("agent"))).json()
    assert meeting["label"] == "例会" and "publish_minutes" in {action["name"] for action in meeting["actions"]}


async def test_only_the_host_or_the_recorder_among_agents_holds_a_meeting_and_publishes_its_minutes(api):
    case = await api.open(
        "meeting",
        role="supervisor",
        title="周例会",
        data={"meeting_type": "weekly", "scheduled_at": "2026-12-04T08:00:00Z", "host": "sam", "recorder": "ann", "participants": ["ann", "bo"]},
    )
    bo = {"Authorization": "Bearer bo-owner-token-0123456789"}  # an agent, neither host nor recorder
    attendance = {"action": "record_attendance", "data": {"attended": ["ann", "sam"]}}
    refused = await api.client.post(f"/cases/{case['id']}/transitions", json=attendance, headers=bo)
    assert refused.status_code == 403 and refused.json()["code"] == RefusalCode.NOT_YOUR_CASE, refused.text
    held = await api.act(case["id"], "record_attendance", role="agent", data={"attended": ["ann", "sam"]})  # ann records
    assert held["state"] == "analyse"
    refused = await api.client.post(f"/cases/{case['id']}/transitions", json={"action": "assign_tasks"}, headers=bo)
    assert refused.status_code == 403 and refused.json()["code"] == RefusalCode.NOT_YOUR_CASE, refused.text
    await api.act(case["id"], "assign_tasks", role="supervisor")  # supervisors always may
    refused = await api.client.post(f"/cases/{case['id']}/transitions", json={"action": "publish_minutes", "data": MINUTES}, headers=bo)
    assert refused.status_code == 403 and refused.json()["code"] == RefusalCode.NOT_YOUR_CASE, refused.text
    published = await api.act(case["id"], "publish_minutes", role="agent", data=MINUTES)
    assert published["state"] == "follow_up"


async def test_a_meetings_minutes_clock_runs_in_the_departments_working_time_without_a_policy_calendar(api):
    case = await api.open("meeting", role="supervisor", title="周例会", data={"meeting_type": "weekly", "host": "sam"})
    held = await api.act(case["id"], "record_attendance", role="supervisor", data={"attended": ["sam"]})
    # Held now: the weekly PT4H runs on the department's calendar (Asia/Shanghai, Mon–Fri 09:00–18:00,
    # China's holidays), though the built-in policy (no CASEWORK_SLA_POLICY) has none.
    start = parse_time((await api.history(case["id"]))[-1]["at"])
    department = department_calendar(Settings.timezone, official_holidays())
    data = policy_for_kind(None, Kind.MEETING, department)
    assert data is not None
    working = parse_policy(data)
    assert parse_time(held["sla"]["minutes"]["deadline"]) == working.add_working_time(start, 4 * 3600)
