"""Routing new cases through the real stack: the department's rules pick the team (each matcher),
the team's method picks the agent (round robin, fewest open cases, none), only agents on shift now
and not away count, and an escalated complaint's new incident is routed like a new case. The rules
are department-wide: each test restores them (no rules) when it ends."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from states.vocabulary import AssignmentMethod, Role, SystemAction
from tests.api.department_people import People, Person
from tests.support import eventually

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def people(read_model, http) -> People:
    return People(read_model, http)


@asynccontextmanager
async def routing(people: People, rules: list[dict]) -> AsyncIterator[None]:
    await people.department.set_routing("sam", {"rules": rules})
    try:
        yield
    finally:
        await people.department.set_routing("sam", {"rules": []})


async def dispatched(people: People, reporter: Person, **body) -> dict:
    """Open a case and wait for routing's decision: the `dispatch` event's data."""
    case = await people.open(reporter, **body)

    async def decision():
        history = (await people.http.get(f"/cases/{case['id']}/history", headers=reporter.headers)).json()["items"]
        return next((event["data"] for event in history if event["action"] == SystemAction.DISPATCH), None)

    return await eventually(decision, 15, f"the dispatch of {case['id']}")


def _channel() -> str:
    return f"channel-{secrets.token_hex(3)}"


def _clock(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%H:%M")


async def test_round_robin_takes_the_teams_agents_in_turn(people):
    first, second = await people.person(Role.AGENT, "a"), await people.person(Role.AGENT, "b")
    team = await people.team("轮转组", [], [first, second], AssignmentMethod.ROUND_ROBIN)
    channel = _channel()
    async with routing(people, [{"match": {"channel": channel}, "team": team}]):
        owners = [(await dispatched(people, first, channel=channel))["owner"] for _ in range(3)]
    assert owners == [first.name, second.name, first.name]


async def test_least_open_cases_gives_the_case_to_the_least_busy_agent(people):
    busy, free = await people.person(Role.AGENT, "a"), await people.person(Role.AGENT, "b")
    team = await people.team("均衡组", [], [busy, free], AssignmentMethod.LEAST_OPEN_CASES)
    await people.open(busy)
    await people.open(busy)
    channel = _channel()
    async with routing(people, [{"match": {"channel": channel}, "team": team}]):
        decision = await dispatched(people, busy, channel=channel)
    assert (decision["team"], decision["owner"], decision["method"]) == (team, free.name, AssignmentMethod.LEAST_OPEN_CASES)


async def test_method_none_leaves_the_case_in_the_teams_queue(people):
    agent = await people.person(Role.AGENT, "a")
    team = await people.team("待领组", [], [agent], AssignmentMethod.NONE)
    channel = _channel()
    async with routing(people, [{"match": {"channel": channel}, "team": team}]):
        decision = await dispatched(people, agent, channel=channel)
    assert (decision["team"], decision["owner"]) == (team, None)
    stored = await eventually(lambda: _stored_when_routed(people, decision, agent))
    assert (stored["team"], stored["owner"]) == (team, None)


async def _stored_when_routed(people: People, decision: dict, agent: Person) -> dict | None:
    listed = (await people.http.get("/cases", params={"unassigned": "true"}, headers=agent.headers)).json()["items"]
    return next((case for case in listed if case["team"] == decision["team"]), None)


async def test_each_matcher_sends_its_cases_to_its_team_and_the_first_match_wins(people):
    reporter = await people.person(Role.AGENT, "reporter")
    teams = {name: await people.team(name, [], []) for name in ("kind", "category", "priority", "vip", "rest")}
    channel = _channel()
    rules = [
        {"match": {"channel": channel, "kind": "feedback"}, "team": teams["kind"]},
        {"match": {"channel": channel, "category": "logistics"}, "team": teams["category"]},
        {"match": {"channel": channel, "priority": "urgent"}, "team": teams["priority"]},
        {"match": {"channel": channel, "vip": True}, "team": teams["vip"]},
        {"match": {"channel": channel}, "team": teams["rest"]},
    ]
    reports: dict[str, dict[str, Any]] = {
        "kind": {"kind": "feedback", "priority": "urgent"},  # urgent too: the first rule that matches wins
        "category": {"data": {"category": "logistics"}},
        "priority": {"priority": "urgent"},
        "vip": {"customer": {"id": "C-9", "vip": True}},
        "rest": {},
    }
    async with routing(people, rules):
        for expected, report in reports.items():
            decision = await dispatched(people, reporter, channel=channel, **report)
            assert (decision["team"], decision["rule"]) == (teams[expected], list(reports).index(expected)), (expected, decision)
        unmatched = await dispatched(people, reporter, channel=_channel())
    assert (unmatched["team"], unmatched["owner"]) == (None, reporter.name), "no rule matched: it stays with its reporter"


async def test_an_agent_away_now_is_skipped(people):
    away, present = await people.person(Role.AGENT, "a"), await people.person(Role.AGENT, "b")
    team = await people.team("请假组", [], [away, present], AssignmentMethod.ROUND_ROBIN)
    now = datetime.now(UTC)
    await people.department.set_away("sam", away.name, now - timedelta(hours=1), now + timedelta(days=3))
    channel = _channel()
    async with routing(people, [{"match": {"channel": channel}, "team": team}]):
        owners = {(await dispatched(people, present, channel=channel))["owner"] for _ in range(2)}
    assert owners == {present.name}


async def test_an_overnight_shift_counts_its_agents_only_while_it_runs(people):
    now = datetime.now(UTC)
    # Both shifts cross midnight: one began an hour ago and runs 23 hours, the other begins in an hour.
    running = {"everyday": f"{_clock(now - timedelta(hours=1))}-{_clock(now - timedelta(hours=2))}"}
    later = {"everyday": f"{_clock(now + timedelta(hours=1))}-{_clock(now - timedelta(hours=1))}"}
    night, day = await people.person(Role.AGENT, "night"), await people.person(Role.AGENT, "day")
    on_shift = await people.team("夜班", [], [night], AssignmentMethod.ROUND_ROBIN, shifts=running)
    off_shift = await people.team("晚班", [], [day], AssignmentMethod.ROUND_ROBIN, shifts=later)
    channel, other_channel = _channel(), _channel()
    rules = [{"match": {"channel": channel}, "team": on_shift}, {"match": {"channel": other_channel}, "team": off_shift}]
    async with routing(people, rules):
        working = await dispatched(people, day, channel=channel)
        waiting = await dispatched(people, night, channel=other_channel)
    assert (working["team"], working["owner"]) == (on_shift, night.name)
    assert (waiting["team"], waiting["owner"]) == (off_shift, None), waiting


async def test_an_escalated_complaints_new_incident_is_routed_like_a_new_case(people):
    reporter, lead = await people.person(Role.AGENT, "reporter"), await people.person(Role.SUPERVISOR, "lead")
    responder = await people.person(Role.AGENT, "responder")
    incidents = await people.team("应急组", [lead], [responder], AssignmentMethod.ROUND_ROBIN)
    channel = _channel()
    async with routing(people, [{"match": {"kind": "incident", "channel": channel}, "team": incidents}]):
        complaint = await people.open(reporter, channel=channel)
        escalated = await people.act(lead, complaint["id"], "escalate", {"reason": "整个华东区配送延误"})
        incident_id = next(link["case_id"] for link in escalated["links"] if link["relation"] == "escalated_to")

        async def incident_routed():
            response = await people.http.get(f"/cases/{incident_id}/history", headers=lead.headers)
            items = response.json().get("items", []) if response.status_code == 200 else []
            return next((event["data"] for event in items if event["action"] == SystemAction.DISPATCH), None)

        decision = await eventually(incident_routed, 15, "the incident's dispatch")
    assert (decision["team"], decision["owner"]) == (incidents, responder.name)
