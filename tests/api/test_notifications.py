"""Messages to people through the real app and worker: the inbox, a webhook channel (the real
transport, workflows/channels/webhook.py, to a local receiver), preferences, a channel down then
back, and who may read what."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
import uuid
from contextlib import asynccontextmanager

import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook as StandardWebhook

from service.directory import Directory
from service.teams import Department
from states.vocabulary import MessageKind
from tests.api.department_people import People
from tests.conftest import Api, auth, free_port, serving, worker_on
from tests.support import eventually

SECRET = base64.b64encode(b"a key for the tests' webhook").decode()


class Receiver:
    """A local webhook endpoint that answers 503 while `down`."""

    def __init__(self):
        self.down = False
        self.requests: list[dict] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = 503 if self.down else 200
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        StandardWebhook("whsec_" + SECRET).verify(body, headers)  # signed as Standard Webhooks say
        self.requests.append({"body": json.loads(body), "status": status})
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    def delivered(self) -> list[dict]:
        return [request["body"] for request in self.requests if request["status"] == 200]


@asynccontextmanager
async def receiving(receiver: Receiver):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/hooks/casework"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def channel_stack(temporal_env, read_model, stack_settings):
    @asynccontextmanager
    async def start(receiver: Receiver):
        queue = f"messages-{time.monotonic_ns()}"
        async with receiving(receiver) as url:
            policy = {"channels": [{"name": "hook", "type": "webhook", "url": url, "secret": "whsec_" + SECRET, "events": ["assigned", "breached"]}]}
            settings = dataclasses.replace(stack_settings, task_queue=queue, notifications=policy)
            async with worker_on(temporal_env.client, read_model, queue, settings=settings), serving(settings) as client:
                yield Api(client)

    return start


@pytest.fixture
async def people(read_model, http) -> People:
    return People(read_model, http)


async def inbox(http, person) -> list[dict]:
    response = await http.get("/inbox", headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_assigning_a_case_puts_a_message_in_the_new_owners_inbox_and_on_the_webhook(channel_stack, people, stack_settings):
    owner = await people.person("agent", "lin")
    receiver = Receiver()
    async with channel_stack(receiver) as api:
        case = await api.open(title="包裹 13812345678")
        await api.act(case["id"], "assign", role="supervisor", data={"owner": owner.name})
        (message,) = await eventually(lambda: inbox(api.client, owner), 20, "inbox message")
        link = f"{stack_settings.console_url}/ui/cases/{case['id']}"
        assert message["kind"] == "assigned" and message["link"] == link and message["read"] is False
        assert message["subject"] == "【分配给我】包裹 138****5678" and link in message["text"] and "13812345678" not in message["text"]
        assert (await api.client.get(link.removeprefix(stack_settings.console_url))).status_code != 404
        (posted,) = await eventually(receiver.delivered, 20, "webhook delivery")
        assert posted["message"]["id"] == f"{case['id']}:2" and posted["recipients"] == [owner.name] and posted["message"]["link"] == link
        assert (await api.client.get("/inbox/unread", headers=owner.headers)).json() == {"unread": 1}
        assert (await api.client.post(f"/inbox/{message['id']}/read", headers=owner.headers)).json() == {"unread": 0}


async def test_a_user_who_turned_assigned_off_hears_nothing_of_it_and_others_still_do(channel_stack, people):
    quiet, keen = await people.person("agent", "quiet"), await people.person("agent", "keen")
    receiver = Receiver()
    async with channel_stack(receiver) as api:
        response = await api.client.put("/me/notifications", json={"off": ["assigned"]}, headers=quiet.headers)
        assert response.status_code == 200 and response.json() == {"off": ["assigned"]}
        assert (await api.client.get("/me/notifications", headers=quiet.headers)).json() == {"off": ["assigned"]}
        assert (await api.client.put("/me/notifications", json={"off": ["lunch"]}, headers=quiet.headers)).status_code == 422
        first, second = await api.open(), await api.open()
        await api.act(first["id"], "assign", role="supervisor", data={"owner": quiet.name})
        await api.act(second["id"], "assign", role="supervisor", data={"owner": keen.name})
        await eventually(lambda: inbox(api.client, keen), 20, "the keen one's message")
        await eventually(receiver.delivered, 20, "webhook delivery")
        await asyncio.sleep(1.5)
        assert await inbox(api.client, quiet) == []
        assert [posted["recipients"] for posted in receiver.delivered()] == [[keen.name]]
        log = (await api.client.get("/notifications", params={"case_id": first["id"]}, headers=auth("auditor"))).json()["items"]
        assert [(item["channel"], item["status"], item["recipients"], item["attempt"]) for item in log] == [("inbox", "skipped", [quiet.name], 0)]


async def test_a_webhook_down_for_a_while_then_back_gets_every_message_once_and_the_case_kept_moving(channel_stack, people):
    owners = [await people.person("agent", f"o{index}") for index in range(3)]
    receiver = Receiver()
    receiver.down = True
    async with channel_stack(receiver) as api:
        case = await api.open()
        for owner in owners:  # each change is taken at once while the channel is down
            started = time.monotonic()
            await api.act(case["id"], "assign", role="supervisor", data={"owner": owner.name})
            assert time.monotonic() - started < 5
        await api.act(case["id"], "acknowledge", role="supervisor")
        await eventually(lambda: len(receiver.requests) >= 6, 20, "failed attempts")

        async def failed():
            response = await api.client.get("/notifications", params={"case_id": case["id"], "status": "failed"}, headers=auth("auditor"))
            assert response.status_code == 200, response.text
            return response.json()["items"]

        attempts = await eventually(failed, 20, "failed attempts in the log")
        assert {item["channel"] for item in attempts} == {"hook"} and all(item["status_code"] == 503 for item in attempts)
        assert len({item["message_id"] for item in attempts}) == 3
        receiver.down = False
        await eventually(lambda: len(receiver.delivered()) == 3, 60, "every message delivered once back up")
        await asyncio.sleep(2)
        assert sorted(posted["message"]["id"] for posted in receiver.delivered()) == [f"{case['id']}:{seq}" for seq in (2, 3, 4)]
        assert (await api.get(case["id"]))["version"] == 5
        params = {"case_id": case["id"], "status": "delivered", "channel": "hook"}
        log = (await api.client.get("/notifications", params=params, headers=auth("supervisor"))).json()
        assert sorted(item["message_id"] for item in log["items"]) == [f"{case['id']}:{seq}" for seq in (2, 3, 4)]
        inbox_log = (await api.client.get("/notifications", params={**params, "channel": "inbox"}, headers=auth("supervisor"))).json()
        assert sorted(item["recipients"][0] for item in inbox_log["items"]) == sorted(owner.name for owner in owners)


async def test_a_breach_reaches_the_owner_and_the_teams_supervisors(api, http, people, read_model):
    agent, lead = await people.person("agent", "hua"), await people.person("supervisor", "lead")
    channel = f"wechat-{uuid.uuid4().hex[:8]}"
    policy = {"warn_at": 0.5, "targets": {"complaint": {"normal": {"first_response": 2}}}}
    team = await people.team("breach", [lead], [agent], assignment="round_robin", sla_policy=policy)
    department = Department(read_model)
    await department.set_routing("test", {"rules": [{"match": {"kind": "complaint", "channel": channel}, "team": team}]})
    try:
        case = await api.open(channel=channel)
        assert case["owner"] == agent.name
    finally:
        await department.set_routing("test", {"rules": []})

    async def kinds(person):
        return sorted(item["kind"] for item in await inbox(http, person) if item["case_id"] == case["id"])

    owner_kinds = [MessageKind.ASSIGNED, MessageKind.BREACHED, MessageKind.DUE_SOON]  # routed to them, then the timers
    assert await eventually(lambda: _equal(kinds(agent), owner_kinds), 20, "owner told")
    assert await eventually(lambda: _equal(kinds(lead), [MessageKind.BREACHED]), 20, "supervisor told")


async def _equal(found, expected) -> bool:
    return await found == sorted(expected)


async def test_only_supervisors_managers_and_auditors_read_the_delivery_log(http):
    assert (await http.get("/notifications", headers=auth("agent"))).status_code == 403
    for role in ("supervisor", "auditor", "manager"):
        assert (await http.get("/notifications", headers=auth(role))).status_code == 200
    assert (await http.put("/me/notifications", json={"off": []}, headers=auth("auditor"))).status_code == 403
    assert (await http.get("/me/notifications", headers=auth("auditor"))).status_code == 200


async def test_one_user_cannot_read_or_mark_anothers_message(api, http, people):
    owner, other = await people.person("agent", "own"), await people.person("agent", "other")
    case = await api.open()
    await api.act(case["id"], "assign", role="supervisor", data={"owner": owner.name})
    (message,) = await eventually(lambda: inbox(http, owner), 20, "inbox message")
    assert await inbox(http, other) == []
    assert (await http.post(f"/inbox/{message['id']}/read", headers=other.headers)).status_code == 404
    assert (await http.post(f"/inbox/{message['id']}/read", headers=auth("auditor"))).status_code == 404
    assert (await inbox(http, owner))[0]["read"] is False


async def test_addresses_are_directory_fields_of_the_users_api(http, read_model):
    name = f"mail-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "role": "agent", "email": "wang@example.com", "wecom_id": "WangWei"}
    created = await http.post("/users", json=body, headers=auth("manager"))
    assert created.status_code == 201, created.text
    assert (created.json()["email"], created.json()["wecom_id"], created.json()["feishu_id"]) == ("wang@example.com", "WangWei", None)
    changed = await http.patch(f"/users/{name}", json={"feishu_id": "ou_9", "wecom_id": None}, headers=auth("manager"))
    assert changed.status_code == 200, changed.text
    person = await Directory(read_model).person(name)
    assert person is not None
    assert (person.email, person.wecom_id, person.feishu_id) == ("wang@example.com", None, "ou_9")
    assert (await http.post("/users", json={**body, "name": name + "x", "email": "nope"}, headers=auth("manager"))).status_code in (400, 422)


async def test_the_message_endpoints_are_in_the_openapi_schema(http):
    paths = (await http.get("/schema/openapi.json")).json()["paths"]
    for path in ("/inbox", "/inbox/unread", "/inbox/{item_id}/read", "/me/notifications", "/notifications"):
        assert path in paths, path


async def test_an_emergency_raised_by_an_agent_tells_the_supervisors_and_nobody_else(api, http, people):
    lead, recorder = await people.person("supervisor", "duty"), await people.person("agent", "rec")
    raised = await api.open("incident", role="agent", title="支付系统故障", data={"impact": "无法支付"})

    async def kinds_of(person):
        return sorted(item["kind"] for item in await inbox(http, person) if item["case_id"] == raised["id"])

    assert await eventually(lambda: _equal(kinds_of(lead), [MessageKind.EMERGENCY_RAISED]), 20, "supervisors told")
    assert await kinds_of(recorder) == []
    assert [item["kind"] for item in await inbox(http, lead) if item["case_id"] == raised["id"]] == ["emergency_raised"]
    data = {"host": lead.name, "recorder": recorder.name, "participants": [recorder.name]}
    await api.act(raised["id"], "set_attendees", role="supervisor", data=data)
    assert await eventually(lambda: _equal(kinds_of(recorder), [MessageKind.ATTENDEE_NAMED]), 20, "the recorder told she was named")


async def act_as(http, person, case_id: str, action: str, data: dict) -> dict:
    response = await http.post(f"/cases/{case_id}/transitions", json={"action": action, "data": data}, headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_those_named_hear_of_it_and_the_one_who_named_them_does_not(api, http, people):
    lead, recorder, owner = await people.person("supervisor", "namer"), await people.person("agent", "named"), await people.person("agent", "doer")
    raised = await api.open("incident", role="agent", title="网点停电", data={"impact": "无法收件"})

    async def kinds_of(person):
        return sorted(item["kind"] for item in await inbox(http, person) if item["case_id"] == raised["id"])

    # The supervisor names herself host: she is told nothing of what she did; the others are.
    await act_as(http, lead, raised["id"], "set_attendees", {"host": lead.name, "recorder": recorder.name, "participants": [lead.name, owner.name]})
    assert await eventually(lambda: _equal(kinds_of(recorder), [MessageKind.ATTENDEE_NAMED]), 20, "recorder told")
    assert await eventually(lambda: _equal(kinds_of(owner), [MessageKind.ATTENDEE_NAMED]), 20, "participant told")
    await api.act(raised["id"], "start_analysis", role="supervisor")
    await act_as(http, lead, raised["id"], "add_action_item", {"title": "检查电源", "owner": owner.name, "due": "2099-01-01T00:00:00+08:00"})
    await act_as(http, lead, raised["id"], "add_action_item", {"title": "自己跟进", "owner": lead.name, "due": "2099-01-01T00:00:00+08:00"})
    expected = [MessageKind.ACTION_ITEM_ASSIGNED, MessageKind.ATTENDEE_NAMED]
    assert await eventually(lambda: _equal(kinds_of(owner), expected), 20, "the item's owner told")
    await asyncio.sleep(1.5)
    assert MessageKind.ATTENDEE_NAMED not in await kinds_of(lead) and MessageKind.ACTION_ITEM_ASSIGNED not in await kinds_of(lead)
    assert await kinds_of(recorder) == [MessageKind.ATTENDEE_NAMED]  # not the item's owner
