"""The regular meetings (例会) over HTTP: an ad-hoc one by a supervisor, its walk, and the rotation."""

from __future__ import annotations

from datetime import date

from tests.conftest import auth
from tests.support import MEETING_WALK


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
