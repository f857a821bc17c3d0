"""What the API refuses, and that a refusal changes nothing."""

import asyncio

import pytest

from tests.conftest import auth

FORBIDDEN_FROM_REPORT = {
    "complaint": ("agent", ["propose_remedy", "complete_remedy", "record_satisfaction", "reopen", "record_findings"]),
    "feedback": ("agent", ["route", "record_result", "record_satisfaction", "reopen"]),
    "incident": ("supervisor", ["plan_measures", "measures_done", "close", "record_cause", "complete_action_item"]),
    "improvement_plan": ("supervisor", ["plan_measures", "evaluate", "record_effect", "add_action_item"]),
}


@pytest.mark.parametrize("kind", list(FORBIDDEN_FROM_REPORT))
async def test_actions_not_possible_in_the_current_phase_are_refused_with_409_and_change_nothing(api, kind):
    role, actions = FORBIDDEN_FROM_REPORT[kind]
    case = await api.open(kind, role=role)
    for action in actions:
        problem = await api.act(case["id"], action, role=role, status=409, data={"reason": "x"})
        assert problem["state"] == "report"
        assert problem["allowed_actions"] == case["allowed_actions"]
        assert problem["title"] == "action not allowed"
    assert (await api.get(case["id"]))["version"] == 1
    assert len(await api.history(case["id"])) == 1


async def test_a_guard_that_fails_is_a_409(api):
    incident = await api.open("incident", role="supervisor")
    await api.act(incident["id"], "start_analysis", role="supervisor")
    problem = await api.act(incident["id"], "plan_measures", role="supervisor", status=409)
    assert problem["state"] == "analyse" and "at least one cause" in problem["detail"]


async def test_a_stale_expected_version_is_a_409_with_the_current_version(api):
    case = await api.open()
    await api.act(case["id"], "acknowledge", expected_version=1)
    problem = await api.act(case["id"], "start_analysis", expected_version=1, status=409)
    assert problem["current_version"] == 2
    assert (await api.get(case["id"]))["state"] == "report"


async def test_auditors_may_read_everything_and_change_nothing(api, http):
    case = await api.open()
    create = await http.post("/cases", json={"kind": "complaint", "title": "t"}, headers=auth("auditor"))
    act = await http.post(f"/cases/{case['id']}/transitions", json={"action": "comment"}, headers=auth("auditor"))
    assert (create.status_code, act.status_code) == (403, 403)
    assert create.headers["content-type"].startswith("application/problem+json")
    assert (await api.get(case["id"], role="auditor"))["allowed_actions"] == []
    assert len(await api.history(case["id"])) == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-known-token"}, {"Authorization": "Basic abc"}])
async def test_requests_without_a_known_token_get_401(http, headers):
    for method, path in [("GET", "/cases"), ("POST", "/cases"), ("GET", "/machines"), ("GET", "/cases/x/history")]:
        response = await http.request(method, path, headers=headers, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.json()["status"] == 401


async def test_agents_get_403_on_supervisor_only_actions(api):
    case = await api.open()
    problem = await api.act(case["id"], "assign", data={"owner": "bo"}, status=403)
    assert problem["roles"] == ["supervisor", "manager"]
    await api.act(case["id"], "start_analysis")
    await api.act(case["id"], "dismiss", data={"reason": "no"}, status=403)
    await api.open("incident", role="agent", status=201)  # an agent may raise an emergency (issue #19)
    await api.open("improvement_plan", role="agent", status=403)
    assert (await api.get(case["id"]))["version"] == 2


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("record_findings", None, "data.findings"),
        ("record_findings", {"findings": 42}, "data.findings"),
        ("record_findings", {"findings": "   "}, "data.findings"),
        ("propose_remedy", {"solution": ["a"]}, "data.solution"),
    ],
)
async def test_missing_or_ill_typed_data_is_a_422_naming_the_field(api, action, data, field):
    case = await api.open()
    await api.act(case["id"], "start_analysis")
    problem = await api.act(case["id"], action, data=data, status=422)
    assert problem["field"] == field
    assert (await api.get(case["id"]))["version"] == 2


async def test_satisfaction_must_be_a_boolean_and_a_score_from_1_to_5(api):
    case = await api.open()
    for action, data in [("start_analysis", None), ("propose_remedy", {"solution": "s"}), ("complete_remedy", {"resolution": "r"})]:
        await api.act(case["id"], action, data=data)
    assert (await api.act(case["id"], "record_satisfaction", data={"satisfied": "yes"}, status=422))["field"] == "data.satisfied"
    assert (await api.act(case["id"], "record_satisfaction", data={"satisfied": True, "score": 6}, status=422))["field"] == "data.score"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "ticket", "title": "t"}, "kind"),
        ({"title": "t"}, "kind"),
        ({"kind": "complaint"}, "title"),
        ({"kind": "complaint", "title": ""}, "title"),
        ({"kind": "complaint", "title": "t", "priority": "asap"}, "priority"),
        ({"kind": "complaint", "title": "t", "customer": {"vip": "yes"}}, "customer.vip"),
        ({"kind": "complaint", "title": "x" * 501}, "title"),
        ({"kind": "feedback", "title": "t", "data": {"occurred_at": "yesterday"}}, "data.occurred_at"),
        ({"kind": "incident", "title": "t", "data": {"participants": "everyone"}}, "data.participants"),
        ({"kind": "complaint", "title": "t", "source_case_id": "no-such-case"}, "source_case_id"),
    ],
)
async def test_a_bad_report_is_a_422_naming_the_field(http, body, field):
    response = await http.post("/cases", json=body, headers=auth("supervisor"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field, response.text


async def test_an_unknown_action_is_a_422_naming_the_action(api):
    case = await api.open()
    problem = await api.act(case["id"], "teleport", status=422)
    assert problem["field"] == "action"
    assert "acknowledge" in problem["known_actions"]


async def test_an_unknown_case_is_a_404(api, http):
    await api.get("no-such-case", status=404)
    await api.act("no-such-case", "comment", status=404)
    response = await http.get("/cases/no-such-case/history", headers=auth("agent"))
    assert response.status_code == 404


async def test_an_oversized_body_is_a_413(http):
    body = {"kind": "complaint", "title": "t", "description": "x" * 1_100_000}
    response = await http.post("/cases", json=body, headers=auth("agent"))
    assert response.status_code == 413
    assert response.json()["status"] == 413


async def test_malformed_json_is_a_400_problem(http):
    response = await http.post("/cases", content=b"{not json", headers={**auth("agent"), "content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_of_two_simultaneous_conflicting_actions_exactly_one_succeeds(http, api):
    async def propose(case_id: str, solution: str):
        return await http.post(
            f"/cases/{case_id}/transitions",
            json={"action": "propose_remedy", "data": {"solution": solution}},
            headers=auth("agent"),
        )

    for _ in range(5):
        case = await api.open()
        await api.act(case["id"], "start_analysis")
        responses = await asyncio.gather(propose(case["id"], "refund"), propose(case["id"], "replace"))
        assert sorted(response.status_code for response in responses) == [200, 409], [r.text for r in responses]
        loser = next(response.json() for response in responses if response.status_code == 409)
        assert loser["state"] == "remediate"
        history = await api.history(case["id"])
        assert [event["action"] for event in history] == ["report", "start_analysis", "propose_remedy"]


async def test_if_match_takes_the_etag_and_a_stale_one_is_a_412(http, api):
    case = await api.open()
    read = await http.get(f"/cases/{case['id']}", headers=auth("agent"))
    assert read.headers["etag"] == '"1"'
    moved = await http.post(f"/cases/{case['id']}/transitions", json={"action": "acknowledge"}, headers={**auth("agent"), "If-Match": '"1"'})
    assert moved.status_code == 200 and moved.headers["etag"] == '"2"'
    stale = await http.post(f"/cases/{case['id']}/transitions", json={"action": "start_analysis"}, headers={**auth("agent"), "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    garbage = await http.post(f"/cases/{case['id']}/transitions", json={"action": "comment"}, headers={**auth("agent"), "If-Match": "yesterday"})
    assert garbage.status_code == 422 and garbage.json()["field"] == "If-Match"
    assert (await api.get(case["id"]))["version"] == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"extra": {"a": {"b": {"c": {"d": 1}}}}}, "data.extra.a.b.c.d"),
        ({"extra": list(range(201))}, "data.extra"),
        ({f"k{index}": 1 for index in range(51)}, "data"),
        ({"extra": "x" * 20_001}, "data.extra"),
    ],
)
async def test_undeclared_data_is_kept_within_bounds(http, data, field):
    response = await http.post("/cases", json={"kind": "complaint", "title": "t", "data": data}, headers=auth("agent"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


async def test_undeclared_data_within_bounds_is_kept_with_the_case(api):
    case = await api.open(data={"order_ref": "A1", "tags": ["退货", "VIP"], "meta": {"source": "app"}})
    assert case["data"] == {"order_ref": "A1", "tags": ["退货", "VIP"], "meta": {"source": "app"}}
