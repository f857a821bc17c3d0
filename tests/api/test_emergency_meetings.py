"""Emergency meetings through the API on a real Temporal dev server: an agent raises one, a supervisor
hosts it and sets its people after an escalation, and storm control puts a burst of breaches of one
cause into one meeting."""

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from service.settings import Settings
from tests.conftest import Api, auth, serving
from tests.support import eventually


@asynccontextmanager
async def api_with(settings: Settings, policy: dict, window_seconds: float) -> AsyncIterator[Api]:
    async with serving(dataclasses.replace(settings, sla_policy=policy, escalation_window_seconds=window_seconds)) as client:
        yield Api(client)


async def found(api: Api, case_id: str) -> dict | None:
    response = await api.client.get(f"/cases/{case_id}", headers=auth("auditor"))
    return response.json() if response.status_code == 200 else None


def linked(case: dict, relation: str) -> list[str]:
    return [link["case_id"] for link in case["links"] if link["relation"] == relation]


async def test_an_agent_raises_an_emergency_and_a_supervisor_takes_it_as_host(api):
    raised = await api.open("incident", role="agent", title="支付系统大面积故障", data={"impact": "全国用户无法支付"})
    assert (raised["state"], raised["created_by"]) == ("report", "ann")
    hosted = await api.act(raised["id"], "take_host", role="supervisor")
    assert hosted["data"]["host"] == "sam" and hosted["owner"] == "sam"
    await api.act(raised["id"], "take_host", role="agent", status=403)


async def test_a_supervisor_sets_the_people_of_a_meeting_opened_by_escalation(api):
    complaint = await api.open(title="配送延误", priority="high")
    escalated = await api.act(complaint["id"], "escalate", role="supervisor", data={"reason": "a region is affected"})
    (incident_id,) = linked(escalated, "escalated_to")
    await eventually(lambda: found(api, incident_id), what="the incident")
    people = {"host": "sam", "recorder": "bo", "participants": ["ann", "bo", "tech"]}
    incident = await api.act(incident_id, "set_attendees", role="supervisor", data=people)
    assert {key: incident["data"][key] for key in people} == people
    problem = await api.act(incident_id, "set_attendees", role="supervisor", data={"recorder": "nobody-at-all"}, status=422)
    assert problem["field"] == "data.recorder"
    problem = await api.act(incident_id, "set_attendees", role="supervisor", data={"participants": ["ann", "bob-no-such-user"]}, status=422)
    assert problem["field"] == "data.participants[1]"
    await api.act(incident_id, "set_attendees", role="agent", data={"recorder": "ann"}, status=403)  # ann does not host


async def test_ten_breaches_of_one_cause_join_one_meeting_and_another_cause_opens_its_own(worker, stack_settings):
    policy = {"auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 2}}}}
    async with api_with(stack_settings, policy, window_seconds=60) as api:
        storm = await asyncio.gather(*(api.open(title=f"物流延误 {n}", priority="urgent", data={"category": "logistics"}) for n in range(10)))
        other = await api.open(title="账户被锁", priority="urgent", data={"category": "account"})

        async def escalated(case_id: str):
            case = await api.get(case_id)
            return linked(case, "escalated_to") or None

        joined = [await eventually(functools.partial(escalated, case["id"]), timeout=30, what="escalation") for case in storm]
        incidents = {incident for links in joined for incident in links}
        assert len(incidents) == 1, joined
        (incident_id,) = incidents

        async def all_linked():
            incident = await api.get(incident_id)
            return incident if len(linked(incident, "escalated_from")) == 10 else None

        incident = await eventually(all_linked, timeout=30, what="ten links on the incident")
        assert sorted(linked(incident, "escalated_from")) == sorted(case["id"] for case in storm)
        assert incident["kind"] == "incident" and incident["created_by"] == "system"
        (own,) = await eventually(lambda: escalated(other["id"]), timeout=30, what="the other cause's escalation")
        assert own != incident_id


async def test_an_action_item_is_due_soon_before_it_is_overdue_once_each(api):
    incident = await api.open("incident", role="agent", title="短信网关故障")
    await api.act(incident["id"], "start_analysis", role="supervisor")
    due = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    await api.act(incident["id"], "add_action_item", data={"title": "切换备用网关", "owner": "tech", "due": due})
    await api.history_with(incident["id"], "action_item_overdue")
    timers = [event for event in await api.history(incident["id"]) if event["action"].startswith("action_item_")]
    assert [event["action"] for event in timers] == ["action_item_due_soon", "action_item_overdue"]
    assert timers[0]["actor"] == {"name": "system"} and timers[0]["data"]["item_id"] == "item-1"
