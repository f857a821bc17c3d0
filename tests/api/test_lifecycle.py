"""Cases move through their phases over HTTP, on a real Temporal server, and keep a complete history."""

import pytest

from tests.support import OPENERS, WALKS, eventually, phases


@pytest.mark.parametrize("kind", list(WALKS))
async def test_every_action_of_a_kind_moves_the_case_and_is_recorded(api, kind):
    opener, walk, states = OPENERS[kind], WALKS[kind], phases(WALKS[kind])
    case = await api.open(kind, role=opener.role, priority="high", customer={"id": "c-1", "name": "王芳", "vip": True})
    assert (case["state"], case["version"], case["owner"]) == ("report", 1, opener.name)

    for number, (step, expected_state) in enumerate(zip(walk, states), start=2):
        assert step.action in (await api.get(case["id"], role=step.actor.role))["allowed_actions"]
        case = await api.act(case["id"], step.action, role=step.actor.role, data=step.data, note=f"step {number}")
        assert (case["state"], case["version"]) == (expected_state, number), step.action

    history = await api.history(case["id"])
    assert [event["seq"] for event in history] == list(range(1, len(walk) + 2))
    assert [event["action"] for event in history] == ["report"] + [step.action for step in walk]
    assert [event["to_state"] for event in history] == ["report"] + states
    assert [event["from_state"] for event in history[1:]] == [event["to_state"] for event in history[:-1]]
    assert history[1]["actor"] == {"name": walk[0].actor.name, "role": walk[0].actor.role}
    assert history[-1]["note"] == f"step {len(walk) + 1}"
    assert case["closed_at"] is not None


async def test_unsatisfied_customer_sends_complaint_back_to_remediate_until_satisfied(api):
    case = await api.open("complaint")
    for action, data in [
        ("start_analysis", None),
        ("propose_remedy", {"solution": "replace the kettle"}),
        ("complete_remedy", {"resolution": "replaced"}),
    ]:
        case = await api.act(case["id"], action, data=data)
    case = await api.act(case["id"], "record_satisfaction", data={"satisfied": False, "score": 1})
    assert case["state"] == "remediate"
    assert case["data"]["satisfied"] is False
    case = await api.act(case["id"], "complete_remedy", data={"resolution": "refunded"})
    case = await api.act(case["id"], "record_satisfaction", data={"satisfied": True})
    assert case["state"] == "closed"
    assert case["data"]["satisfied"] is True and case["data"]["score"] is None


async def test_ineffective_improvement_plan_goes_back_to_analyse(api):
    plan = await api.open("improvement_plan", role="supervisor", data={"problem": "slow replies", "metric": "first_response_time", "baseline": 42})
    for action, data in [
        ("start_analysis", None),
        ("record_cause", {"category": "process", "description": "no triage"}),
        ("plan_measures", None),
        ("evaluate", None),
    ]:
        plan = await api.act(plan["id"], action, role="supervisor", data=data)
    plan = await api.act(plan["id"], "record_effect", role="supervisor", data={"effective": False, "after_value": 40})
    assert plan["state"] == "analyse"
    assert plan["data"]["baseline"] == 42 and plan["data"]["after_value"] == 40


async def test_incident_cannot_leave_remediate_while_an_action_item_is_open(api):
    incident = await api.open("incident", role="supervisor", data={"impact": "checkout down", "participants": ["ann", "sam"]})
    for action, data in [
        ("start_analysis", None),
        ("record_cause", {"category": "system", "description": "db failover"}),
        ("plan_measures", None),
        ("add_action_item", {"title": "fix failover", "owner": "tech", "due": "2030-01-01T00:00:00+08:00"}),
    ]:
        incident = await api.act(incident["id"], action, role="supervisor", data=data)
    assert incident["action_items"] == [
        {
            "id": "item-1",
            "title": "fix failover",
            "owner": "tech",
            "due": "2029-12-31T16:00:00.000000Z",
            "done": False,
            "outcome": None,
            "overdue": False,
        }
    ]
    refused = await api.act(incident["id"], "measures_done", role="supervisor", status=409)
    assert refused["state"] == "remediate"
    assert "measures_done" not in refused["allowed_actions"]
    assert "every action item is done" in refused["detail"]
    assert (await api.get(incident["id"]))["version"] == incident["version"]

    await api.act(incident["id"], "complete_action_item", role="supervisor", data={"item_id": "item-1", "outcome": "done"})
    incident = await api.act(incident["id"], "measures_done", role="supervisor")
    assert incident["state"] == "follow_up"
    assert incident["action_items"][0]["done"] is True


async def test_closed_complaint_reopens_into_analyse(api):
    case = await api.open("complaint")
    for action, role, data in [
        ("start_analysis", "agent", None),
        ("dismiss", "supervisor", {"reason": "not supported by the order record"}),
    ]:
        case = await api.act(case["id"], action, role=role, data=data)
    assert case["state"] == "closed" and case["allowed_actions"] == ["reopen"]
    case = await api.act(case["id"], "reopen", data={"reason": "new evidence"})
    assert (case["state"], case["closed_at"], case["reopen_count"]) == ("analyse", None, 1)


async def test_chinese_text_round_trips_exactly(api):
    title, note = "顾客投诉：快递延误三天，包装破损😡", "已致电安抚，承诺48小时内回复"
    case = await api.open("complaint", title=title, description="订单号 JD-2026-1122", channel="电话", data={"demand": "全额退款"})
    await api.act(case["id"], "acknowledge", note=note)
    stored = await api.get(case["id"])
    assert (stored["title"], stored["channel"], stored["data"]["demand"]) == (title, "电话", "全额退款")
    assert (await api.history(case["id"]))[1]["note"] == note


async def test_an_improvement_plan_from_an_incident_links_both_ways(api):
    incident = await api.open("incident", role="supervisor")
    plan = await api.open("improvement_plan", role="supervisor", source_case_id=incident["id"])
    assert plan["links"] == [{"case_id": incident["id"], "relation": "source"}]

    async def linked_back():
        case = await api.get(incident["id"])
        return case if case["links"] else None

    incident = await eventually(linked_back, what="link from the incident to its plan")
    assert incident["links"] == [{"case_id": plan["id"], "relation": "derived"}]
    assert (await api.history(incident["id"]))[-1]["action"] == "link"
    linked = await api.list(linked_to=incident["id"])
    assert [item["id"] for item in linked["items"]] == [plan["id"]]
