"""Assessments over HTTP where they used to go wrong: the log kept from team-mates, periods past the
calendar refused naming the field, and one coaching plan however many ask at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from service.tables import users
from tests.api.console_client import Browser, ensure_people
from tests.api.department_people import PASSWORD
from tests.api.test_assessments import NOVEMBER, _department, _seed_november
from tests.conftest import auth


async def test_the_log_is_kept_from_team_mates_and_bad_periods_are_named(own_stack):
    async with own_stack() as stack:
        http = stack.api.client
        supervisor, _, ann, bob, _ = await _department(stack)
        made = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name]}, headers=supervisor.headers)
        identifier = made.json()["items"][0]["id"]
        assert (await http.post(f"/assessments/{identifier}/peer", json={"score": 60}, headers=bob.headers)).status_code == 200

        assert (await http.get(f"/assessments/{identifier}/log", headers=bob.headers)).status_code == 403
        own = await http.get(f"/assessments/{identifier}/log", headers=ann.headers)
        assert own.status_code == 200 and bob.name not in own.text
        assert bob.name in (await http.get(f"/assessments/{identifier}/log", headers=supervisor.headers)).text
        seen = (await http.get(f"/assessments/{identifier}", headers=ann.headers)).json()
        assert seen["peers"] == {"mean": 60.0, "count": 1} and bob.name not in str(seen)

        for period in ("0000", "0000-01"):
            refused = await http.get("/assessments", params={"period": period}, headers=supervisor.headers)
            assert refused.status_code == 422 and refused.json()["field"] == "period", period
        late = await http.post("/assessments", json={"period": "monthly", "from": "9999-12-15T00:00:00Z"}, headers=supervisor.headers)
        assert late.status_code == 422 and late.json()["field"] == "from"

        await ensure_people(stack.read_model)
        console = Browser(str(http.base_url))
        try:
            await console.sign_in("sam")
            assert (await console.get("/ui/assessments", period="0000")).status_code == 200
        finally:
            await console.close()


async def test_two_coaching_requests_at_once_open_one_plan(own_stack):
    async with own_stack() as stack:
        http = stack.api.client
        supervisor, _, ann, _, _ = await _department(stack)
        await _seed_november(stack, ann.name)
        made = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name]}, headers=supervisor.headers)
        identifier = made.json()["items"][0]["id"]

        answers = await asyncio.gather(*(http.post(f"/assessments/{identifier}/coaching", json={}, headers=supervisor.headers) for _ in range(2)))
        assert sorted(answer.status_code for answer in answers) == [201, 409], [answer.text for answer in answers]
        plan_id = next(answer.json()["coaching_plan"] for answer in answers if answer.status_code == 201)
        plans = (await http.get("/cases", params={"kind": "improvement_plan"}, headers=auth("auditor"))).json()["items"]
        assert [plan["id"] for plan in plans if plan["data"].get("assessment") == identifier] == [plan_id]


async def test_team_mates_are_asked_for_peer_scores_only_when_they_count_and_see_what_they_gave(own_stack):
    async with own_stack(targets_policy={"assessment": {"weights": {"peers": 0.2}}}) as stack:
        http = stack.api.client
        supervisor, _, ann, bob, _ = await _department(stack)
        await _seed_november(stack, ann.name)  # bob handled no case
        async with stack.read_model.engine.begin() as connection:
            await connection.execute(update(users).where(users.c.name == ann.name).values(display_name="白波"))
        made = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name, bob.name]}, headers=supervisor.headers)
        ann_id = made.json()["items"][0]["id"]

        mate = Browser(str(http.base_url))
        try:
            await mate.sign_in(bob.name, PASSWORD)
            peers = (await mate.get("/ui/assessments")).text.split('id="peers-title"')[1]
            assert f'href="/ui/assessments/{ann_id}"' in peers and "白波" in peers
            await mate.sign_in(ann.name, PASSWORD)
            listing = (await mate.get("/ui/assessments")).text
            assert 'id="peers-title"' not in listing  # bob's assessment is of no case: nothing to judge
            await mate.sign_in(bob.name, PASSWORD)
            assert (await mate.post(f"/ui/assessments/{ann_id}/peer", {"score": "80"})).status_code == 303
            given = (await mate.get(f"/ui/assessments/{ann_id}")).text
            assert "你已给出互评：80.0 分" in given and "白波" in given.split("<h1")[1].split("</h1>")[0]
        finally:
            await mate.close()


async def test_with_peer_scores_weighing_nothing_no_team_mate_is_asked(own_stack):
    async with own_stack() as stack:
        http = stack.api.client
        supervisor, _, ann, bob, _ = await _department(stack)
        await _seed_november(stack, ann.name)
        made = await http.post("/assessments", json={**NOVEMBER, "agents": [ann.name]}, headers=supervisor.headers)
        ann_id = made.json()["items"][0]["id"]
        mate = Browser(str(http.base_url))
        try:
            await mate.sign_in(bob.name, PASSWORD)
            assert 'id="peers-title"' not in (await mate.get("/ui/assessments")).text
            assert 'action="/ui/assessments/' + ann_id + '/peer"' not in (await mate.get(f"/ui/assessments/{ann_id}")).text
        finally:
            await mate.close()
