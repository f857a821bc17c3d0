"""Messages to people through the real app and worker: the inbox, a webhook channel (the real
transport, workflows/channels/webhook.py, to a local receiver), preferences, a channel down then
back, and who may read what."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import time
import uuid
from contextlib import asynccontextmanager

import pytest
import uvicorn
from standardwebhooks.webhooks import Webhook as StandardWebhook

from api.labels import label
from service.directory import Directory
from service.notifications import Notifications
from service.tables import users
from service.teams import Department
from states.notification_rules import parse_notification_policy
from states.vocabulary import MessageKind
from tests.api.department_people import People
from tests.conftest import Api, auth, free_port, serving, worker_on
from tests.support import eventually
from workflows.messages import AnnounceInput

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
        self.requests.append({"body": json.loads(body), "status": status, "headers": headers, "raw": body})
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    def delivered(self) -> list[dict]:
        return [request["body"] for request in self.requests if request["status"] == 200]

    def delivered_requests(self) -> list[dict]:
        return [request for request in self.requests if request["status"] == 200]


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
def legacy_stack(temporal_env, read_model, stack_settings):
    """CASEWORK_WEBHOOK_URL (and its secret) set, no CASEWORK_NOTIFICATIONS: the old webhook."""

    @asynccontextmanager
    async def start(receiver: Receiver):
        queue = f"legacy-{time.monotonic_ns()}"
        async with receiving(receiver) as url:
            settings = dataclasses.replace(stack_settings, task_queue=queue, notifications=None, webhook_url=url, webhook_secret="whsec_" + SECRET)
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


async def test_the_old_webhook_url_gets_assignments_and_escalations_in_the_old_body_and_headers_whoever_hears_of_them(legacy_stack, people):
    quiet = await people.person("agent", "quiet")
    receiver = Receiver()
    async with legacy_stack(receiver) as api:
        response = await api.client.put("/me/notifications", json={"off": ["assigned"]}, headers=quiet.headers)
        assert response.status_code == 200
        raised = await api.open("incident", role="agent", title="支付系统故障", data={"impact": "无法支付"})  # emergency_raised: not an old event
        case = await api.open(title="包裹 13812345678")
        await api.act(case["id"], "assign", role="supervisor", data={"owner": "bo"})  # bo: in no directory, nobody hears of it
        await api.act(case["id"], "assign", role="supervisor", data={"owner": quiet.name})  # who turned "assigned" off
        await api.act(case["id"], "escalate", role="supervisor", data={"reason": "a whole region is affected"})

        def of_the_case() -> list[dict]:
            return [request for request in receiver.delivered_requests() if request["body"]["delivery"].startswith(case["id"] + ":")]

        await eventually(lambda: len(of_the_case()) >= 3, 30, "three events on the old webhook")
        await asyncio.sleep(1.5)
        posted = sorted(of_the_case(), key=lambda request: request["body"]["event"]["seq"])
        assert [request["headers"]["x-casework-event"] for request in posted] == ["assign", "assign", "escalate"]
        assert [request["headers"]["x-casework-delivery"] for request in posted] == [f"{case['id']}:{seq}" for seq in (2, 3, 4)]
        first = posted[0]
        headers, raw, body = first["headers"], first["raw"], first["body"]
        # The old signature as before, and the Standard Webhooks one (Receiver verified it).
        expected = hmac.new(("whsec_" + SECRET).encode(), headers["x-casework-timestamp"].encode() + b"." + raw, hashlib.sha256).hexdigest()
        assert headers["x-casework-signature"] == f"sha256={expected}" and headers["webhook-id"] == f"{case['id']}:2"
        assert set(body) == {"delivery", "event", "case", "message"}
        assert body["delivery"] == f"{case['id']}:2" and body["event"]["action"] == "assign" and body["event"]["data"] == {"owner": "bo"}
        assert body["case"] == {"id": case["id"], "title": "包裹 138****5678", "kind": "complaint", "priority": case["priority"]}
        assert body["message"]["kind"] == "assigned" and body["message"]["id"] == f"{case['id']}:2"
        assert posted[1]["body"]["event"]["data"] == {"owner": quiet.name}
        assert not [request for request in receiver.requests if request["body"]["delivery"].startswith(raised["id"] + ":")]


async def _language(read_model, name: str, language: str) -> None:
    async with read_model.engine.begin() as connection:
        await connection.execute(users.update().where(users.c.name == name).values(language=language, email=f"{name}@example.cn"))


async def test_robots_and_webhooks_get_one_message_per_event_without_the_title_and_email_goes_per_language(read_model, people):
    zh, en = await people.person("agent", "zh"), await people.person("agent", "en")
    await _language(read_model, zh.name, "zh-CN")
    await _language(read_model, en.name, "en")
    policy = parse_notification_policy(
        {
            "channels": [
                {"name": "hook", "type": "webhook", "url": "https://hooks.example.cn/cw", "events": ["meeting_scheduled"]},
                {"name": "group", "type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t", "events": ["meeting_scheduled"]},
                {"name": "mail", "type": "email", "host": "smtp.example.cn", "sender": "cw@example.cn", "events": ["meeting_scheduled"]},
            ]
        }
    )
    office = Notifications(read_model, policy, "https://casework.example.cn", label)
    message_id = f"case-{uuid.uuid4().hex[:8]}:3"
    title = "客户张伟投诉：快递员态度恶劣 13812345678"
    request = AnnounceInput(message_id, MessageKind.MEETING_SCHEDULED, message_id.split(":")[0], "meeting", title, people=[zh.name, en.name])
    deliveries = await office.prepare(request)
    by_channel: dict[str, list] = {}
    for delivery in deliveries:
        by_channel.setdefault(delivery.channel, []).append(delivery)
    (hook,), (group,) = by_channel["hook"], by_channel["group"]
    # One webhook delivery (one webhook-id), in the department's language, naming everyone.
    assert hook.message.language == "zh-CN" and hook.message.id == message_id and hook.message.data["recipients"] == [zh.name, en.name]
    assert [r.name for r in group.recipients] == [zh.name, en.name]
    # The group chat is told the kind of message and the case, never its title (a customer's name in it).
    robot = json.dumps(dataclasses.asdict(group.message), ensure_ascii=False)
    assert "张伟" not in robot and "快递员" not in robot and "1381234" not in robot
    assert request.case_id in group.message.subject and group.message.link == f"https://casework.example.cn/ui/cases/{request.case_id}"
    # Email, like the inbox, per language with the masked title.
    assert sorted(d.message.language for d in by_channel["mail"]) == ["en", "zh-CN"]
    assert all("138****5678" in d.message.subject and "张伟" in d.message.subject for d in by_channel["mail"])


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
