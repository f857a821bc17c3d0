"""Escalation into emergency incident meetings, and what the meeting's closing tells its cases."""

import asyncio

import pytest

from tests.conftest import Api, auth
from tests.support import INCIDENT_WALK, SUPERVISOR, Step, eventually


async def linked(api: Api, case_id: str, relation: str) -> list[str]:
    case = await api.get(case_id, status=200)
    return [link["case_id"] for link in case["links"] if link["relation"] == relation]


async def open_incident(api: Api, case_id: str) -> dict:
    async def found():
        response = await api.client.get(f"/cases/{case_id}", headers=auth("auditor"))
        return response.json() if response.status_code == 200 else None

    return await eventually(found, what=f"incident {case_id}")


async def test_escalating_a_complaint_opens_an_incident_linked_both_ways(api):
    complaint = await api.open(title="大面积配送延误", description="many parcels late", priority="high")
    escalated = await api.act(complaint["id"], "escalate", role="supervisor", data={"reason": "a whole region is affected"})
    (incident_id,) = [link["case_id"] for link in escalated["links"] if link["relation"] == "escalated_to"]
    assert escalated["state"] == "report"
    incident = await open_incident(api, incident_id)
    assert incident["kind"] == "incident" and incident["title"] == "Escalated: 大面积配送延误"
    assert incident["priority"] == "high" and incident["created_by"] == "sam"
    assert incident["data"]["consequences"] == "a whole region is affected"
    assert incident["links"] == [{"case_id": complaint["id"], "relation": "escalated_from"}]
    listed = await api.list(linked_to=incident_id)
    assert [item["id"] for item in listed["items"]] == [complaint["id"]]


async def test_escalating_into_an_existing_incident_attaches_the_case(api):
    incident = await api.open("incident", role="supervisor")
    feedback = await api.open("feedback")
    await api.act(feedback["id"], "escalate", role="supervisor", data={"reason": "same outage", "incident_id": incident["id"]})
    assert await eventually(lambda: linked(api, incident["id"], "escalated_from")) == [feedback["id"]]
    assert await linked(api, feedback["id"], "escalated_to") == [incident["id"]]


async def test_escalation_needs_an_open_incident_and_a_supervisor(api):
    complaint = await api.open()
    await api.act(complaint["id"], "escalate", data={"reason": "r"}, status=403)
    problem = await api.act(complaint["id"], "escalate", role="supervisor", data={"reason": "r", "incident_id": complaint["id"]}, status=422)
    assert problem["field"] == "data.incident_id"


async def test_closing_the_incident_tells_each_escalated_case_which_stays_open(api):
    complaint = await api.open()
    escalated = await api.act(complaint["id"], "escalate", role="supervisor", data={"reason": "outage"})
    incident_id = next(link["case_id"] for link in escalated["links"] if link["relation"] == "escalated_to")
    await open_incident(api, incident_id)
    closing = Step(SUPERVISOR, "close", {"effect": "stable", "lessons_learned": "monitor", "minutes": "minutes"})
    await api.take(incident_id, [*INCIDENT_WALK[:-1], closing])

    async def told():
        history = await api.history(complaint["id"])
        return [event for event in history if event["action"] == "incident_closed"]

    (notice,) = await eventually(told)
    assert notice["data"] == {"incident_id": incident_id, "effect": "stable"}
    assert (await api.get(complaint["id"]))["state"] == "report"


async def test_an_incident_in_follow_up_opens_an_improvement_plan_linked_both_ways(api):
    incident = await api.open("incident", role="supervisor")
    await api.take(incident["id"], INCIDENT_WALK[:5])  # in remediate, every action item done
    await api.act(incident["id"], "open_improvement_plan", role="supervisor", data={"metric": "error_rate"}, status=409)
    await api.act(incident["id"], "measures_done", role="supervisor")
    opened = await api.act(incident["id"], "open_improvement_plan", role="supervisor", data={"metric": "error_rate", "baseline": 0.05})
    (plan_id,) = [link["case_id"] for link in opened["links"] if link["relation"] == "derived"]
    plan = await open_incident(api, plan_id)
    assert plan["kind"] == "improvement_plan" and plan["data"] == {"metric": "error_rate", "baseline": 0.05}
    assert plan["links"] == [{"case_id": incident["id"], "relation": "source"}]


@pytest.mark.parametrize(("priority", "vip"), [("urgent", False), ("normal", True)])
async def test_a_first_response_breach_escalates_by_itself_for_urgent_and_vip_cases(api_with_policy, priority, vip):
    policy = {
        "warn_at": 0.5,
        "auto_escalate": ["urgent", "vip"],
        "targets": {"complaint": {p: {"first_response": 1} for p in ("normal", "high", "urgent")}},
    }
    async with api_with_policy(policy) as api:
        complaint = await api.open(priority=priority, customer={"id": "c", "vip": vip})

        async def escalated():
            return [event for event in await api.history(complaint["id"]) if event["action"] == "escalate"]

        (event,) = await eventually(escalated)
        assert event["actor"] == {"name": "system"}
        assert "first_response target breached" in event["data"]["reason"]
        incident = await open_incident(api, event["data"]["incident_id"])
        assert incident["links"] == [{"case_id": complaint["id"], "relation": "escalated_from"}]
        assert incident["created_by"] == "system"
        for case_id in (complaint["id"], incident["id"]):
            verified = await api.client.get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))
            assert verified.json()["ok"] is True, verified.text


async def test_a_vip_breach_does_not_escalate_when_the_policy_does_not_list_vip(api_with_policy):
    policy = {"warn_at": 0.5, "auto_escalate": ["urgent"], "targets": {"complaint": {"high": {"first_response": 1}}}}
    async with api_with_policy(policy) as api:
        complaint = await api.open(customer={"id": "c", "vip": True})  # normal: a VIP's clocks run as high's
        await api.history_with(complaint["id"], "sla_breached")
        await asyncio.sleep(0.5)
        assert "escalate" not in [event["action"] for event in await api.history(complaint["id"])]


async def test_a_normal_priority_breach_does_not_escalate(api_with_policy):
    policy = {"warn_at": 0.5, "auto_escalate": ["urgent"], "targets": {"complaint": {"normal": {"first_response": 1}}}}
    async with api_with_policy(policy) as api:
        complaint = await api.open()
        await api.history_with(complaint["id"], "sla_breached")
        await asyncio.sleep(0.5)
        assert "escalate" not in [event["action"] for event in await api.history(complaint["id"])]


async def test_cases_joined_by_escalation_verify(api):
    complaint = await api.open()
    escalated = await api.act(complaint["id"], "escalate", role="supervisor", data={"reason": "outage"})
    incident_id = next(link["case_id"] for link in escalated["links"] if link["relation"] == "escalated_to")
    await open_incident(api, incident_id)
    for case_id in (complaint["id"], incident_id):
        response = await api.client.get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))
        assert response.json()["ok"] is True, response.text


async def test_an_incident_storm_control_opened_closes_after_its_storm_has_ended(api_with_policy):
    # The tests' storm window is a millisecond: the storm workflow is gone when its incident closes.
    policy = {"warn_at": 0.5, "auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 1}}}}
    async with api_with_policy(policy) as api:
        complaint = await api.open(priority="urgent")
        (event,) = [event for event in await api.history_with(complaint["id"], "escalate") if event["action"] == "escalate"]
        incident_id = event["data"]["incident_id"]
        await open_incident(api, incident_id)
        await api.take(incident_id, INCIDENT_WALK)
        assert (await api.get(incident_id))["state"] == "closed"
        await api.history_with(complaint["id"], "incident_closed")
