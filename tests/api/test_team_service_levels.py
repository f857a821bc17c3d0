"""Routing through the real stack: a new case lands in its team's queue by the first matching rule,
the history says why, and a team with its own service-level policy gives the case its budgets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

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
