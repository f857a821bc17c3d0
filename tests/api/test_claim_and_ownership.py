"""Claim (认领) and the ownership rule through the real stack: agents of a case's team claim it, one
at a time; only its owner, its team's supervisors and managers move it, anyone comments; with the
rule off (CASEWORK_OWNERSHIP=off) anyone with the role moves it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from states.vocabulary import RefusalCode, Role
from tests.api.department_people import People
from tests.conftest import serving


@pytest.fixture
def people(read_model, http) -> People:
    return People(read_model, http)


async def _history(people: People, case_id: str, who) -> list[dict]:
    return (await people.http.get(f"/cases/{case_id}/history", headers=who.headers)).json()["items"]


async def test_an_agent_of_the_team_claims_an_unassigned_case(people):
    agent, manager = await people.person(Role.AGENT, "agent"), await people.person(Role.MANAGER, "boss")
    team = await people.team("认领组", [], [agent])
    queued = await people.in_queue(manager, agent, team)
    assert (queued["owner"], queued["team"]) == (None, team)

    claimed = await people.act(agent, queued["id"], "claim")

    assert (claimed["owner"], claimed["team"]) == (agent.name, team)
    claim = [event for event in await _history(people, queued["id"], agent) if event["action"] == "claim"]
    assert len(claim) == 1 and claim[0]["actor"]["name"] == agent.name and claim[0]["data"]["owner"] == agent.name


async def test_an_agent_of_another_team_may_not_claim(people):
    agent, stranger = await people.person(Role.AGENT, "agent"), await people.person(Role.AGENT, "stranger")
    manager = await people.person(Role.MANAGER, "boss")
    team = await people.team("甲组", [], [agent])
    await people.team("乙组", [], [stranger])
    queued = await people.in_queue(manager, agent, team)

    refused = await people.act(stranger, queued["id"], "claim", status=403)

    assert refused["code"] == RefusalCode.NOT_IN_TEAM
    assert (await people.read_model.get_case(queued["id"]))["owner"] is None


async def test_two_agents_claiming_at_once_one_wins_the_other_is_refused(people):
    first, second = await people.person(Role.AGENT, "first"), await people.person(Role.AGENT, "second")
    manager = await people.person(Role.MANAGER, "boss")
    team = await people.team("抢单组", [], [first, second])
    queued = await people.in_queue(manager, first, team)
    body = {"action": "claim"}

    answers = await asyncio.gather(
        *(people.http.post(f"/cases/{queued['id']}/transitions", json=body, headers=who.headers) for who in (first, second))
    )

    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text for answer in answers]
    winner = next(who for who, answer in zip((first, second), answers, strict=True) if answer.status_code == 200)
    loser = next(answer for answer in answers if answer.status_code == 409).json()
    assert loser["code"] == RefusalCode.GUARD_FAILED, loser
    assert (await people.read_model.get_case(queued["id"]))["owner"] == winner.name
    assert [event["action"] for event in await _history(people, queued["id"], first)].count("claim") == 1


async def test_only_the_owner_the_teams_supervisor_and_a_manager_move_a_case(people):
    owner, colleague = await people.person(Role.AGENT, "owner"), await people.person(Role.AGENT, "colleague")
    lead, other_lead = await people.person(Role.SUPERVISOR, "lead"), await people.person(Role.SUPERVISOR, "other")
    manager = await people.person(Role.MANAGER, "boss")
    team = await people.team("丙组", [lead], [owner, colleague])
    await people.team("丁组", [other_lead], [])
    case = await people.in_queue(manager, owner, team, owner=owner)

    refused = await people.act(colleague, case["id"], "acknowledge", status=403)
    assert refused["code"] == RefusalCode.NOT_YOUR_CASE
    await people.act(colleague, case["id"], "comment")  # others may comment
    refused = await people.act(other_lead, case["id"], "set_priority", {"priority": "high"}, status=403)
    assert refused["code"] == RefusalCode.NOT_YOUR_CASE
    moved = await people.act(lead, case["id"], "set_priority", {"priority": "high"})
    assert moved["priority"] == "high"
    moved = await people.act(manager, case["id"], "set_priority", {"priority": "urgent"})
    assert moved["priority"] == "urgent"
    moved = await people.act(owner, case["id"], "start_analysis")
    assert moved["state"] == "analyse"


async def test_with_the_ownership_rule_off_anyone_with_the_role_moves_a_case(people, stack_settings):
    owner, colleague = await people.person(Role.AGENT, "owner"), await people.person(Role.AGENT, "colleague")
    other_lead, manager = await people.person(Role.SUPERVISOR, "other"), await people.person(Role.MANAGER, "boss")
    team = await people.team("戊组", [], [owner])
    await people.team("己组", [other_lead], [colleague])
    case = await people.in_queue(manager, owner, team, owner=owner)

    async with serving(dataclasses.replace(stack_settings, ownership=False)) as client:
        relaxed = People(people.read_model, client)
        moved = await relaxed.act(colleague, case["id"], "start_analysis")
        assert moved["state"] == "analyse"
        moved = await relaxed.act(other_lead, case["id"], "set_priority", {"priority": "high"})
        assert moved["priority"] == "high"
    refused = await people.act(colleague, case["id"], "record_findings", {"findings": "破损"}, status=403)
    assert refused["code"] == RefusalCode.NOT_YOUR_CASE, "the rule is the app's setting: on for the other app"
