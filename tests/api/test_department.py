"""The department over the real HTTP app: managers set up teams, users and routing; everyone reads
them; every refusal names its field; auditors and managers read who changed what; new cases land
with the team's agents in turn."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from service.directory import Directory
from service.read_model import ReadModel
from service.teams import Department
from tests.api.department_people import People, Person
from tests.conftest import Api, auth
from tests.support import eventually

PASSWORD = "a long password"


@pytest.fixture
def people(read_model: ReadModel, http: httpx.AsyncClient) -> People:
    return People(read_model, http)


@pytest.fixture
async def manager(people: People) -> Person:
    return await people.person("manager", "mgr")


def refused(response: httpx.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    if field is not None:
        assert problem["field"] == field, response.text
    return problem


async def test_a_manager_sets_up_a_team_that_everyone_reads(http, read_model, people, manager):
    lead = await people.person("supervisor", "lead")
    agents = [await people.person("agent", f"agent{index}") for index in range(2)]
    name = f"售后一组-{secrets.token_hex(3)}"
    body = {"name": name, "site": "总部", "supervisors": [lead.name], "members": [agents[0].name], "assignment": "least_open_cases"}

    created = await http.post("/teams", json=body, headers=manager.headers)
    assert created.status_code == 201, created.text
    team = created.json()
    assert {key: team[key] for key in body} == body
    assert team["shifts"] is None and team["sla_policy"] is None and team["created_at"].endswith("Z") and team["updated_at"] == team["created_at"]

    for reader in (auth("agent"), auth("auditor"), lead.headers):
        assert (await http.get(f"/teams/{name}", headers=reader)).json() == team
        assert team in (await http.get("/teams", headers=reader)).json()["items"]

    shifts = {"workdays": ["08:30-17:30", "17:00-01:00"], "sat": "09:00-18:00"}
    changed = await http.patch(f"/teams/{name}", json={"members": [a.name for a in agents], "shifts": shifts}, headers=manager.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["members"] == sorted(a.name for a in agents) and changed.json()["shifts"] == shifts
    assert changed.json()["supervisors"] == [lead.name] and changed.json()["assignment"] == "least_open_cases"  # what was not given stays
    always = await http.patch(f"/teams/{name}", json={"shifts": None, "assignment": "none"}, headers=manager.headers)
    assert (always.json()["shifts"], always.json()["assignment"], always.json()["members"]) == (None, "none", changed.json()["members"])
    assert (await http.get(f"/users/{agents[1].name}", headers=auth("agent"))).json()["teams"] == [name]

    refused(await http.get("/teams/no-such-team", headers=auth("agent")), 404)
    refused(await http.patch("/teams/no-such-team", json={"site": "x"}, headers=manager.headers), 404)


async def test_every_bad_team_is_refused_naming_its_field(http, read_model, people, manager):
    auditor = await people.person("auditor", "aud")
    name = f"team-{secrets.token_hex(3)}"
    good = {"name": name, "site": "远程站点", "supervisors": [], "members": []}
    assert (await http.post("/teams", json=good, headers=manager.headers)).status_code == 201
    cases = [
        ({**good, "name": name}, "name"),  # exists already
        ({**good, "name": "x" * 101}, "name"),
        ({**good, "name": ""}, "name"),
        ({**good, "name": name + "2", "members": ["ghost-" + secrets.token_hex(3)]}, "members[0]"),
        ({**good, "name": name + "2", "supervisors": [auditor.name]}, "supervisors[0]"),
        ({**good, "name": name + "2", "assignment": "by_lottery"}, "assignment"),
        ({**good, "name": name + "2", "shifts": {"monday": "09:00-18:00"}}, "shifts.monday"),
        ({**good, "name": name + "2", "shifts": {"mon": ["09:00-18:00", "25:00-26:00"]}}, "shifts.mon[1]"),
        ({**good, "name": name + "2", "members": [f"a{index}" for index in range(501)]}, "members"),
        ({"site": "x"}, "name"),
    ]
    for body, field in cases:
        refused(await http.post("/teams", json=body, headers=manager.headers), 422, field)
    assert (await http.get(f"/teams/{name}2", headers=manager.headers)).status_code == 404  # nothing half-made
    refused(await http.patch(f"/teams/{name}", json={"name": "renamed"}, headers=manager.headers), 422, "name")
    refused(await http.patch(f"/teams/{name}", json={"assignment": "by_lottery"}, headers=manager.headers), 422, "assignment")


async def test_only_managers_change_users_teams_and_routing(http, read_model, people, manager):
    supervisor = await people.person("supervisor", "sup")
    writes = [
        ("POST", "/teams", {"name": "t-" + secrets.token_hex(3), "site": "x"}),
        ("PATCH", "/teams/any", {"site": "x"}),
        ("POST", "/users", {"name": "u-" + secrets.token_hex(3), "role": "agent"}),
        ("PATCH", "/users/ann", {"display_name": "x"}),
        ("PUT", "/routing", {"rules": []}),
    ]
    for headers in (auth("agent"), auth("supervisor"), auth("auditor"), supervisor.headers):
        for method, path, body in writes:
            problem = refused(await http.request(method, path, json=body, headers=headers), 403)
            assert problem["code"] == "forbidden_role"
        for path in ("/teams", "/users", "/routing"):
            assert (await http.get(path, headers=headers)).status_code == 200
    assert (await http.get("/users", headers=manager.headers)).status_code == 200


async def test_a_manager_adds_and_changes_users_and_nobody_reads_their_secrets(http, read_model, manager):
    directory = Directory(read_model)
    teams = [f"队-{secrets.token_hex(3)}" for _ in range(2)]
    for team in teams:
        assert (await http.post("/teams", json={"name": team, "site": "总部"}, headers=manager.headers)).status_code == 201
    name = f"新人-{secrets.token_hex(3)}"

    added = await http.post("/users", json={"name": name, "role": "agent", "display_name": "王 小明", "teams": [teams[0]]}, headers=manager.headers)
    assert added.status_code == 201, added.text
    expected = {
        "name": name,
        "display_name": "王 小明",
        "role": "agent",
        "teams": [teams[0]],
        "away": None,
        "disabled": False,
        "language": "zh-CN",
        "shifts": None,
        "email": None,
        "wecom_id": None,
        "dingtalk_id": None,
        "feishu_id": None,
    }
    assert added.json() == expected
    assert (await http.get(f"/users/{name}", headers=auth("agent"))).json() == expected
    listed = (await http.get("/users", headers=auth("auditor"))).text
    assert expected in (await http.get("/users", headers=auth("auditor"))).json()["items"]
    assert "password" not in listed and "hash" not in listed and "token" not in listed
    assert await directory.check_password(name, "") is None  # no password: no console sign-in yet

    changes = {
        "display_name": "王 经理",
        "role": "supervisor",
        "teams": list(reversed(teams)),
        "away": {"from": "2026-02-09T09:00:00+08:00", "to": "2026-02-16T09:00:00+08:00"},
        "shifts": {"everyday": "17:00-01:00"},
        "password": "a brand new password",
    }
    changed = await http.patch(f"/users/{name}", json=changes, headers=manager.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        **expected,
        "display_name": "王 经理",
        "role": "supervisor",
        "teams": sorted(teams),
        "away": {"from": "2026-02-09T01:00:00.000000Z", "to": "2026-02-16T01:00:00.000000Z"},
        "shifts": {"everyday": "17:00-01:00"},
    }
    assert await directory.check_password(name, "a brand new password") is not None

    token = (await directory.issue_token(name)).token
    as_them = {"Authorization": f"Bearer {token}"}
    assert (await http.patch(f"/users/{name}", json={"disabled": True}, headers=manager.headers)).json()["disabled"] is True
    assert (await http.get("/teams", headers=as_them)).status_code == 401
    back = await http.patch(f"/users/{name}", json={"disabled": False, "away": None, "teams": []}, headers=manager.headers)
    assert (back.json()["disabled"], back.json()["away"], back.json()["teams"]) == (False, None, [])
    assert (await http.get("/teams", headers=as_them)).status_code == 200

    also_manager = await http.post("/users", json={"name": name + "-m", "role": "manager", "password": PASSWORD}, headers=manager.headers)
    assert also_manager.status_code == 201 and also_manager.json()["role"] == "manager"


async def test_a_supervisor_made_an_agent_stops_leading_their_teams(http, read_model, people, manager):
    lead = await people.person("supervisor", "lead")
    team = f"team-{secrets.token_hex(3)}"
    assert (await http.post("/teams", json={"name": team, "site": "总部", "supervisors": [lead.name]}, headers=manager.headers)).status_code == 201
    assert (await http.patch(f"/users/{lead.name}", json={"role": "agent"}, headers=manager.headers)).json()["teams"] == [team]
    after = (await http.get(f"/teams/{team}", headers=manager.headers)).json()
    assert (after["supervisors"], after["members"]) == ([], [lead.name])
    refused(await http.patch(f"/users/{lead.name}", json={"role": "auditor"}, headers=manager.headers), 422, "role")
    made_auditor = await http.patch(f"/users/{lead.name}", json={"role": "auditor", "teams": []}, headers=manager.headers)
    assert made_auditor.status_code == 200 and made_auditor.json()["teams"] == []


async def test_every_bad_user_is_refused_naming_its_field(http, read_model, people, manager):
    existing = await people.person("agent", "old")
    fresh = f"u-{secrets.token_hex(3)}"
    cases = [
        ({"name": existing.name, "role": "agent"}, "name"),
        ({"name": "has space", "role": "agent"}, "name"),
        ({"name": "x" * 101, "role": "agent"}, "name"),
        ({"name": fresh, "role": "boss"}, "role"),
        ({"name": fresh, "role": "agent", "teams": ["no-such-team"]}, "teams[0]"),
        ({"name": fresh, "role": "agent", "password": "short"}, "password"),
        ({"name": fresh, "role": "agent", "language": "fr"}, "language"),
        ({"name": fresh, "role": "auditor", "teams": ["any"]}, "teams"),
        ({"name": fresh, "role": "agent", "teams": ["t"] * 501}, "teams"),
        ({"role": "agent"}, "name"),
    ]
    for body, field in cases:
        refused(await http.post("/users", json=body, headers=manager.headers), 422, field)
    refused(await http.get(f"/users/{fresh}", headers=manager.headers), 404)

    changes: list[tuple[dict[str, Any], str]] = [
        ({"away": {"from": "2026-02-16T09:00:00+08:00", "to": "2026-02-09T09:00:00+08:00"}}, "away.to"),
        ({"away": {"from": "next monday", "to": "2026-02-09T09:00:00+08:00"}}, "away.from"),
        ({"away": {"from": "2026-02-09T09:00:00+08:00"}}, "away.to"),
        ({"teams": ["no-such-team"]}, "teams[0]"),
        ({"password": "short"}, "password"),
        ({"role": "boss"}, "role"),
        ({"display_name": ""}, "display_name"),
        ({"disabled": "yes"}, "disabled"),
        ({"shifts": {"mon": "9-5"}}, "shifts.mon"),
    ]
    for body, field in changes:
        refused(await http.patch(f"/users/{existing.name}", json=body, headers=manager.headers), 422, field)
    assert (await http.get(f"/users/{existing.name}", headers=manager.headers)).json()["role"] == "agent"
    # A refused change changes nothing, not even its valid parts.
    refused(await http.patch(f"/users/{existing.name}", json={"display_name": "new", "teams": ["no-such-team"]}, headers=manager.headers), 422)
    assert (await http.get(f"/users/{existing.name}", headers=manager.headers)).json()["display_name"] == existing.name
    refused(await http.patch(f"/users/{fresh}", json={"display_name": "x"}, headers=manager.headers), 404)


async def test_routing_is_read_by_everyone_and_replaced_by_managers(http, read_model, manager):
    team = f"team-{secrets.token_hex(3)}"
    assert (await http.post("/teams", json={"name": team, "site": "总部"}, headers=manager.headers)).status_code == 201
    routing = {"rules": [{"match": {"kind": "complaint", "vip": True}, "team": team}, {"match": {}, "team": team}], "default_team": team}
    department = Department(read_model)
    try:
        put = await http.put("/routing", json=routing, headers=manager.headers)
        assert put.status_code == 200, put.text
        assert put.json() == routing
        assert (await http.get("/routing", headers=auth("agent"))).json() == routing
        bad = [
            ({"rules": [{"match": {}, "team": "no-such-team"}]}, "rules[0].team"),
            ({"rules": [{"match": {"kind": "letter"}, "team": team}]}, "rules[0].match.kind"),
            ({"rules": [{"match": {"kidn": "complaint"}, "team": team}]}, "rules[0].match"),
            ({"rules": [{"match": {"category": "weather"}, "team": team}]}, "rules[0].match.category"),
            ({"rules": [], "default_team": "no-such-team"}, "default_team"),
            ({"rules": [{"match": {}, "team": team}] * 201}, "rules"),
            ({}, "rules"),
        ]
        for body, field in bad:
            refused(await http.put("/routing", json=body, headers=manager.headers), 422, field)
        assert (await http.get("/routing", headers=auth("agent"))).json() == routing  # refusals changed nothing
    finally:
        await department.set_routing("tests", {"rules": []})


async def test_auditors_and_managers_read_who_changed_the_department(http, read_model, manager):
    name = f"u-{secrets.token_hex(3)}"
    team = f"team-{secrets.token_hex(3)}"
    assert (await http.post("/teams", json={"name": team, "site": "总部"}, headers=manager.headers)).status_code == 201
    assert (await http.post("/users", json={"name": name, "role": "agent", "teams": [team]}, headers=manager.headers)).status_code == 201
    secret = "the secret password"
    assert (await http.patch(f"/users/{name}", json={"password": secret, "role": "supervisor"}, headers=manager.headers)).status_code == 200

    for reader in (auth("auditor"), manager.headers):
        response = await http.get("/audit/directory", params={"limit": 4}, headers=reader)
        assert response.status_code == 200, response.text
        assert secret not in response.text
        changes = response.json()["items"]
        assert [(c["actor"], c["subject"], c["name"]) for c in changes] == [(manager.name, "user", name)] * 3 + [(manager.name, "team", team)]
        assert changes[0]["change"] == {"role": "supervisor", "password": "changed"}
        assert changes[1]["change"] == {"teams": [team]}
        assert changes[2]["change"]["created"] == {"role": "agent", "display_name": name, "language": "zh-CN", "password": "none"}
        assert changes[0]["at"] >= changes[3]["at"] and changes[0]["id"] > changes[3]["id"]
    for headers in (auth("agent"), auth("supervisor")):
        refused(await http.get("/audit/directory", headers=headers), 403)
    limited = await http.get("/audit/directory", params={"limit": 0}, headers=manager.headers)
    assert limited.status_code in (400, 422) and limited.json()["field"] == "limit", limited.text


async def test_new_complaints_land_with_the_teams_agents_in_turn(api: Api, http, read_model, people, manager):
    agents = [await people.person("agent", f"rr{index}") for index in range(2)]
    team, site, channel = (f"{prefix}-{secrets.token_hex(3)}" for prefix in ("轮流组", "站点", "渠道"))
    body = {"name": team, "site": site, "members": [agent.name for agent in agents], "assignment": "round_robin"}
    assert (await http.post("/teams", json=body, headers=manager.headers)).status_code == 201
    rule = {"match": {"kind": "complaint", "channel": channel}, "team": team}
    try:
        assert (await http.put("/routing", json={"rules": [rule]}, headers=manager.headers)).status_code == 200
        opened = [await api.open("complaint", title=f"投诉 {index}", channel=channel) for index in range(3)]
        dispatches = [next(e for e in await api.history_with(case["id"], "dispatch") if e["action"] == "dispatch") for case in opened]
    finally:
        await Department(read_model).set_routing("tests", {"rules": []})

    expected_owners = [agents[0].name, agents[1].name, agents[0].name]
    assert [(event["data"]["team"], event["data"]["owner"]) for event in dispatches] == [(team, owner) for owner in expected_owners]
    assert all(event["data"]["rule"] == 0 and event["data"]["method"] == "round_robin" for event in dispatches)
    assert all(f"channel={channel}" in event["data"]["reason"] and "round robin" in event["data"]["reason"] for event in dispatches)
    assert dispatches[1]["data"]["reason"].endswith(f"round robin after {agents[0].name}")

    async def routed():
        cases = [await api.get(case["id"]) for case in opened]
        return cases if all(case["team"] == team for case in cases) else None

    cases = await eventually(routed, 15, "the routed cases in the read model")
    assert [case["owner"] for case in cases] == expected_owners
    ids = {case["id"] for case in opened}
    assert {item["id"] for item in (await api.list(team=team))["items"]} == ids
    assert {item["id"] for item in (await api.list(site=site, role="agent"))["items"]} == ids
    assert (await api.list(team=team + "-other"))["items"] == []
    counts = (await http.get("/cases/counts", params={"group_by": "team", "site": site}, headers=auth("auditor"))).json()
    assert (counts["total"], counts["items"]) == (3, [{"key": team, "count": 3}])
    assert (await http.get("/cases/counts", params={"group_by": "owner", "team": team}, headers=auth("auditor"))).json()["items"] == [
        {"key": agents[0].name, "count": 2},
        {"key": agents[1].name, "count": 1},
    ]


async def test_a_manager_does_what_supervisors_do(api: Api, http, manager):
    case = await api.open("complaint", title="经理来处理")
    assigned = await http.post(f"/cases/{case['id']}/transitions", json={"action": "assign", "data": {"owner": "bo"}}, headers=manager.headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["owner"] == "bo" and "assign" in assigned.json()["allowed_actions"]
    assert (await http.get(f"/cases/{case['id']}/history/verify", headers=manager.headers)).status_code == 200
    review = await http.post("/reviews", json={}, headers=manager.headers)
    assert review.status_code == 201, review.text


async def test_the_openapi_document_shows_the_department(http):
    spec = (await http.get("/schema/openapi.json")).json()
    paths = spec["paths"]
    expected = {"/teams": {"get", "post"}, "/teams/{name}": {"get", "patch"}, "/users": {"get", "post"}, "/users/{name}": {"get", "patch"}}
    for path, methods in {**expected, "/routing": {"get", "put"}, "/audit/directory": {"get"}}.items():
        assert methods <= set(paths[path]), path
    schemas = spec["components"]["schemas"]
    assert schemas["TeamChange"]["required"] == [] and schemas["UserChange"]["required"] == []
    assert schemas["TeamIn"]["properties"]["assignment"]["enum"] == ["round_robin", "least_open_cases", "none"]
    assert "manager" in schemas["User"]["properties"]["role"]["enum"] and "password" not in schemas["User"]["properties"]
    for path in ("/cases", "/cases/counts"):
        assert {"team", "site"} <= {parameter["name"] for parameter in paths[path]["get"]["parameters"]}
