"""Routing through the real stack: a new case lands in its team's queue by the first matching rule,
the history says why, and a team with its own service-level policy gives the case its budgets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.directory import Directory
from service.teams import Department
from states.case import parse_time
from states.vocabulary import SystemAction

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
async def hotline(read_model) -> AsyncIterator[tuple[str, str, str]]:
    """A team with one agent and a 90-second first response for normal complaints, and a rule sending
    complaints of a channel of its own there; the department's routing is emptied afterwards."""
    suffix = uuid.uuid4().hex[:8]
    team, agent, channel = f"hotline-{suffix}", f"hua-{suffix}", f"wechat-{suffix}"
    await Directory(read_model).add(agent, "agent", "a-long-password")
    department = Department(read_model)
    policy = {"targets": {"complaint": {"normal": {"first_response": 90, "resolution": "P1D"}}}}
    await department.add_team("test", {"name": team, "site": "head_office", "members": [agent], "assignment": "round_robin", "sla_policy": policy})
    await department.set_routing("test", {"rules": [{"match": {"kind": "complaint", "channel": channel}, "team": team}]})
    try:
        yield team, agent, channel
    finally:
        await department.set_routing("test", {"rules": []})


async def test_a_new_case_lands_with_the_agent_of_the_team_its_rule_names_and_says_why(api, hotline):
    team, agent, channel = hotline
    case = await api.open(channel=channel)
    assert (case["team"], case["owner"]) == (team, agent)

    dispatched = [event for event in await api.history(case["id"]) if event["action"] == SystemAction.DISPATCH]
    assert len(dispatched) == 1 and dispatched[0]["actor"]["name"] == "system"
    assert dispatched[0]["data"]["team"] == team and dispatched[0]["data"]["rule"] == 0
    assert "channel=" in dispatched[0]["data"]["reason"] and "round robin" in dispatched[0]["data"]["reason"]


async def test_the_api_routes_the_case_and_its_report_is_written_with_the_dispatch_by_no_activity(api, hotline, temporal_env):
    """Since v12: the API routes the new case before it reports it, and the report's validator writes the
    report and routing's decision before Temporal accepts it: no local activity, no marker (before: two)."""
    _, agent, channel = hotline
    case = await api.open(channel=channel)
    assert case["owner"] == agent
    history = await temporal_env.client.get_workflow_handle(case["id"]).fetch_history()
    assert not [event for event in history.events if event.HasField("marker_recorded_event_attributes")]
    assert [event["action"] for event in await api.history(case["id"])] == [SystemAction.REPORT, SystemAction.DISPATCH]


async def test_a_case_no_rule_matches_stays_with_its_reporter_in_no_team_and_the_history_says_so(api, hotline):
    case = await api.open(channel="phone")
    assert (case["team"], case["owner"]) == (None, "ann")
    dispatched = [event for event in await api.history(case["id"]) if event["action"] == SystemAction.DISPATCH]
    assert dispatched[0]["data"]["reason"] == "no rule matched and no default team"


async def test_a_team_with_its_own_policy_gives_the_case_its_budgets(api, hotline):
    _, _, channel = hotline
    routed = await api.open(channel=channel)
    elsewhere = await api.open(channel="phone")

    def first_response_budget(case) -> timedelta:
        return parse_time(case["sla"]["first_response"]["deadline"]) - parse_time(case["created_at"])

    assert first_response_budget(routed) == timedelta(seconds=90)
    assert first_response_budget(elsewhere) == timedelta(hours=2)  # the department's default for a normal complaint
    dispatched = next(event for event in await api.history(routed["id"]) if event["action"] == SystemAction.DISPATCH)
    assert dispatched["data"]["team_policy"] is True


async def test_a_team_policy_is_checked_naming_its_key(read_model):
    department = Department(read_model)
    bad = {"targets": {"complaint": {"normal": {"first_response": "soon"}}}}
    with pytest.raises(Exception) as refused:
        await department.add_team("test", {"name": f"t-{uuid.uuid4().hex[:6]}", "site": "head_office", "sla_policy": bad})
    assert getattr(refused.value, "field", None) == "sla_policy.targets.complaint.normal.first_response"


def span_around_now(start_hours: float, end_hours: float) -> str:
    """An HH:MM-HH:MM span from `start_hours` to `end_hours` after now, in Beijing time."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    start, end = now + timedelta(hours=start_hours), now + timedelta(hours=end_hours)
    return f"{start:%H:%M}-{end:%H:%M}"


async def test_an_agent_whose_own_shift_is_over_is_passed_by_and_one_on_the_night_shift_gets_the_case(api, read_model, hotline):
    team, hua, channel = hotline
    department = Department(read_model)
    night = f"night-{uuid.uuid4().hex[:6]}"
    await Directory(read_model).add(night, "agent", "a-long-password")
    await department.change_team("test", team, {"members": [hua, night]})
    # Hua's own shift ended an hour ago; the night agent's started two hours ago and runs past midnight's wrap if it must.
    await department.set_user_shifts("test", hua, {"everyday": span_around_now(-9, -1)})
    await department.set_user_shifts("test", night, {"everyday": span_around_now(-2, 6)})

    owners = [(await api.open(channel=channel))["owner"] for _ in range(3)]
    assert owners == [night, night, night]

    await department.set_away("test", night, datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=3))
    waiting = await api.open(channel=channel)
    assert (waiting["team"], waiting["owner"]) == (team, None)
    reason = next(event for event in await api.history(waiting["id"]) if event["action"] == SystemAction.DISPATCH)["data"]["reason"]
    assert "stays in the team's queue" in reason


async def test_a_meeting_is_not_routed_even_by_a_default_team(api, read_model, hotline):
    team, _, _ = hotline
    await Department(read_model).set_routing("test", {"rules": [], "default_team": team})
    meeting = await api.open(kind="meeting", role="supervisor", data={"meeting_type": "weekly"})
    complaint = await api.open(channel="phone")
    assert (meeting["team"], meeting["owner"]) == (None, "sam") and complaint["team"] == team
    assert not [event for event in await api.history(meeting["id"]) if event["action"] == SystemAction.DISPATCH]
