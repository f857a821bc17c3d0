"""Handover through the real stack: every open case of a user goes to another user or back to a
team's queue, each an `assign` event with the handover as its reason, idempotently."""

from __future__ import annotations

import asyncio

import pytest

from service.read_model import CaseFilter
from states.vocabulary import RefusalCode, Role
from tests.api.department_people import People, Person

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def people(read_model, http) -> People:
    return People(read_model, http)


async def _handover(people: People, by: Person, user: Person, key: str | None = None, **body: str) -> tuple[int, dict]:
    headers = {**by.headers, **({"Idempotency-Key": key} if key else {})}
    response = await people.http.post(f"/users/{user.name}/handover", json=body, headers=headers)
    return response.status_code, response.json()


async def _open_many(people: People, reporter: Person, count: int) -> list[str]:
    gate = asyncio.Semaphore(8)

    async def one(number: int) -> str:
        async with gate:
            return (await people.open(reporter, title=f"待交接的投诉 {number}"))["id"]

    return await asyncio.gather(*(one(number) for number in range(count)))


async def _history(people: People, case_id: str, who: Person) -> list[dict]:
    response = await people.http.get(f"/cases/{case_id}/history", headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_two_hundred_cases_are_handed_over_to_another_user_once_each(people):
    leaving, taking = await people.person(Role.AGENT, "leaving"), await people.person(Role.AGENT, "taking")
    supervisor = await people.person(Role.SUPERVISOR, "lead")
    team = await people.team("退款组", [supervisor], [leaving, taking])
    case_ids = await _open_many(people, leaving, 200)
    closed = await people.open(leaving, title="已驳回的投诉")
    await people.act(leaving, closed["id"], "start_analysis")
    await people.act(supervisor, closed["id"], "dismiss", {"reason": "重复投诉"})

    status, body = await _handover(people, supervisor, leaving, key="leave-2026-12", to_user=taking.name)

    assert status == 200, body
    results = body["results"]
    assert sorted(result["case_id"] for result in results) == sorted(case_ids), "every open case, and only open ones"
    assert all(result == {"case_id": result["case_id"], "ok": True, "status": 200} for result in results)
    owned = await people.read_model.list_cases(CaseFilter(owner=taking.name), 500)
    assert sorted(case["id"] for case in owned.items) == sorted(case_ids)
    assert (await people.read_model.get_case(closed["id"]))["owner"] == leaving.name
    history = await _history(people, case_ids[0], supervisor)
    handed = [event for event in history if event["action"] == "assign"]
    assert len(handed) == 1 and handed[0]["data"]["reason"] == f"handover: {leaving.name} → {taking.name}"
    assert handed[0]["actor"]["name"] == supervisor.name and handed[0]["data"]["owner"] == taking.name
    assert team

    again, replayed = await _handover(people, supervisor, leaving, key="leave-2026-12", to_user=taking.name)
    assert (again, replayed) == (status, body), "the same request again answers the same"
    fresh, nothing_left = await _handover(people, supervisor, leaving, to_user=taking.name)
    assert (fresh, nothing_left) == (200, {"results": []}), "a new request finds nothing left to hand over"
    assert [event["action"] for event in await _history(people, case_ids[-1], supervisor)].count("assign") == 1


async def test_cases_handed_back_to_the_teams_queue_wait_unassigned_there(people):
    leaving, manager = await people.person(Role.AGENT, "leaving"), await people.person(Role.MANAGER, "boss")
    team = await people.team("售后组", [], [leaving])
    case_ids = await _open_many(people, leaving, 3)

    status, body = await _handover(people, manager, leaving, to_team=team)

    assert status == 200 and [result["ok"] for result in body["results"]] == [True] * 3, body
    for case_id in case_ids:
        case = await people.read_model.get_case(case_id)
        assert (case["owner"], case["team"]) == (None, team)
        assign = [event for event in await _history(people, case_id, manager) if event["action"] == "assign"]
        assert assign[0]["data"]["reason"] == f"handover: {leaving.name} → {team}"
    queued = await people.http.get("/cases", params={"team": team, "unassigned": "true"}, headers=manager.headers)
    assert sorted(case["id"] for case in queued.json()["items"]) == sorted(case_ids)
    by_site = await people.http.get("/cases", params={"site": "总部", "unassigned": "true", "limit": 500}, headers=manager.headers)
    assert set(case_ids) <= {case["id"] for case in by_site.json()["items"]}


async def test_a_supervisor_moves_only_the_cases_of_the_teams_they_lead(people):
    leaving = await people.person(Role.AGENT, "leaving")
    taking = await people.person(Role.AGENT, "taking")
    ours, theirs = await people.person(Role.SUPERVISOR, "ours"), await people.person(Role.SUPERVISOR, "theirs")
    manager = await people.person(Role.MANAGER, "boss")
    our_team = await people.team("一组", [ours], [leaving, taking])
    their_team = await people.team("二组", [theirs], [leaving])
    mine = await people.in_queue(manager, leaving, our_team, owner=leaving)
    other = await people.in_queue(manager, leaving, their_team, owner=leaving)

    status, body = await _handover(people, ours, leaving, to_user=taking.name)

    assert status == 200, body
    results = {result["case_id"]: result for result in body["results"]}
    assert results[mine["id"]] == {"case_id": mine["id"], "ok": True, "status": 200}
    refused = results[other["id"]]
    assert (refused["ok"], refused["status"], refused["problem"]["code"]) == (False, 403, RefusalCode.NOT_YOUR_CASE)
    assert (await people.read_model.get_case(other["id"]))["owner"] == leaving.name


async def test_only_a_supervisor_of_the_users_team_or_a_manager_hands_over(people):
    leaving, colleague = await people.person(Role.AGENT, "leaving"), await people.person(Role.AGENT, "colleague")
    stranger = await people.person(Role.SUPERVISOR, "stranger")
    auditor = await people.person(Role.AUDITOR, "auditor")
    await people.team("三组", [], [leaving, colleague])
    await people.team("四组", [stranger], [])
    case = await people.open(leaving)

    status, problem = await _handover(people, stranger, leaving, to_user=colleague.name)
    assert (status, problem["code"]) == (403, RefusalCode.NOT_IN_TEAM), problem
    for who in (colleague, auditor):
        status, problem = await _handover(people, who, leaving, to_user=colleague.name)
        assert status == 403, problem
    assert (await people.read_model.get_case(case["id"]))["owner"] == leaving.name


async def test_a_handover_names_exactly_one_known_target(people):
    leaving, manager = await people.person(Role.AGENT, "leaving"), await people.person(Role.MANAGER, "boss")
    refusals = [
        ({}, "to_user"),
        ({"to_user": manager.name, "to_team": "x"}, "to_user"),
        ({"to_user": "nobody-at-all"}, "to_user"),
        ({"to_user": leaving.name}, "to_user"),
        ({"to_team": "no-such-team"}, "to_team"),
    ]
    for body, field in refusals:
        status, problem = await _handover(people, manager, leaving, **body)
        assert (status, problem.get("field")) == (422, field), (body, problem)
    status, problem = await _handover(people, manager, Person("nobody-at-all", Role.AGENT, {}), to_user=manager.name)
    assert status == 404, problem
