"""Emergency meetings through the API on a real Temporal dev server: an agent raises one, a supervisor
hosts it and sets its people after an escalation, and storm control puts a burst of breaches of one
cause into one meeting."""

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from service.settings import Settings
from states.vocabulary import MessageKind
from tests.api.department_people import People
from tests.conftest import Api, auth, serving
from tests.support import INCIDENT_WALK, eventually
from workflows import storms


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


async def breach(api: Api, category: str, priority: str = "urgent", title: str = "物流延误") -> dict:
    return await api.open(title=title, priority=priority, data={"category": category})


@asynccontextmanager
async def storm_of(temporal_env, stack_settings: Settings, policy: dict, category: str) -> AsyncIterator[Api]:
    """An app whose breaches of `category` storm afresh: a storm of the cause an earlier test left is
    ended first, and this one after the test (the cause has no team: nothing routes these cases)."""
    handle = temporal_env.client.get_workflow_handle(storms.storm_id(f"complaint:{category}:-"))
    with contextlib.suppress(Exception):
        await handle.terminate("a test of its own")
    try:
        async with api_with(stack_settings, policy, window_seconds=60) as api:
            yield api
    finally:
        with contextlib.suppress(Exception):
            await handle.terminate("the test is over")


async def escalated_to(api: Api, case_id: str) -> str:
    async def escalated():
        return linked(await api.get(case_id), "escalated_to") or None

    (incident_id,) = await eventually(escalated, timeout=30, what=f"escalation of {case_id}")
    return incident_id


async def test_a_breach_after_the_storms_incident_closed_opens_a_new_one(temporal_env, worker, stack_settings):
    policy = {"auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 1}}}}
    category = "product_quality"
    async with storm_of(temporal_env, stack_settings, policy, category) as api:
        first = await escalated_to(api, (await breach(api, category))["id"])
        await eventually(lambda: found(api, first), what="the first incident")
        await api.take(first, INCIDENT_WALK)
        assert (await api.get(first))["state"] == "closed"
        second = await escalated_to(api, (await breach(api, category))["id"])
        assert second != first
        assert (await eventually(lambda: found(api, second), what="the second incident"))["state"] == "report"


async def test_when_the_storm_cannot_open_its_incident_the_next_breach_is_not_left_waiting(temporal_env, worker, stack_settings, monkeypatch):
    opening = storms._open_incident

    async def refusing(incident_id, input):
        if "坏" in input.report.title:
            raise ApplicationError("the incident could not be started", non_retryable=True)
        await opening(incident_id, input)

    monkeypatch.setattr(storms, "_open_incident", refusing)
    policy = {"auto_escalate": ["urgent", "high"], "targets": {"complaint": {"urgent": {"first_response": 1}, "high": {"first_response": 4}}}}
    category = "service_process"
    async with storm_of(temporal_env, stack_settings, policy, category) as api:
        refused, later = await breach(api, category, title="坏了"), await breach(api, category, priority="high")
        # The storm refused the first: it opened its own incident, as a case without storm control does.
        own = await escalated_to(api, refused["id"])
        assert linked(await eventually(lambda: found(api, own), what="its own incident"), "escalated_from") == [refused["id"]]
        # The next breach of the cause is not left waiting for an incident that never started.
        opened = await escalated_to(api, later["id"])
        incident = await eventually(lambda: found(api, opened), what="the storm's incident")
        assert opened != own and incident["created_by"] == "system"
        assert linked(incident, "escalated_from") == [later["id"]]


async def test_ten_breaches_of_one_cause_tell_the_supervisors_once(temporal_env, worker, read_model, stack_settings):
    policy = {"auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 2}}}}
    category = "other"
    async with storm_of(temporal_env, stack_settings, policy, category) as api:
        lead = await People(read_model, api.client).person("supervisor", "duty")
        storm = await asyncio.gather(*(breach(api, category, title=f"物流延误 {n}") for n in range(10)))
        (incident_id,) = {await escalated_to(api, case["id"]) for case in storm}
        cases = {case["id"] for case in storm} | {incident_id}

        async def told() -> list[str] | None:
            response = await api.client.get("/inbox", headers=lead.headers)
            kinds = sorted(item["kind"] for item in response.json()["items"] if item["case_id"] in cases and item["kind"] in TOLD)
            return kinds if len(kinds) >= 2 else None

        await eventually(told, timeout=30, what="the supervisors told")
        await asyncio.sleep(2)  # every joiner's escalation is recorded by now: none may tell them again
        assert await told() == [MessageKind.EMERGENCY_RAISED, MessageKind.ESCALATED]
        histories = [await api.history(case["id"]) for case in storm]
        assert sum(1 for history in histories for event in history if event["action"] == "escalate") == 10


TOLD = (MessageKind.ESCALATED, MessageKind.EMERGENCY_RAISED)


async def test_a_case_that_moved_on_while_its_storm_opened_an_incident_links_back_to_it(temporal_env, worker, stack_settings, monkeypatch):
    opening = storms._open_incident

    async def slow(incident_id, input):
        if "慢" in input.report.title:
            await workflow.sleep(3)  # the case is dismissed meanwhile
        await opening(incident_id, input)

    monkeypatch.setattr(storms, "_open_incident", slow)
    policy = {"auto_escalate": ["urgent"], "targets": {"complaint": {"urgent": {"first_response": 1}}}}
    category = "account"
    async with storm_of(temporal_env, stack_settings, policy, category) as api:
        case = await breach(api, category, title="慢")
        await api.history_with(case["id"], "sla_breached")
        await api.act(case["id"], "start_analysis")
        await api.act(case["id"], "dismiss", role="supervisor", data={"reason": "not our fault"})
        incident_id = await escalated_to(api, case["id"])
        incident = await eventually(lambda: found(api, incident_id), what="the incident")
        assert linked(incident, "escalated_from") == [case["id"]]
        actions = [event["action"] for event in await api.history(case["id"])]
        assert "escalate" not in actions and actions[-1] == "link", actions
        assert (await api.get(case["id"]))["state"] == "closed"
