"""Webhooks: signed, retried until delivered, never lost or doubled; every attempt visible."""

import asyncio
import dataclasses
import hashlib
import hmac
import json
import time
from contextlib import asynccontextmanager

import pytest
import uvicorn

from tests.conftest import Api, auth, free_port, serving, worker_on
from tests.support import eventually
from workflows.notifications import Webhook

SECRET = "s3cret-for-tests"


class Receiver:
    """A local webhook endpoint that fails its first `failures` requests per delivery."""

    def __init__(self, failures: int = 0):
        self.failures = failures
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
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        delivery = headers.get("x-casework-delivery")
        seen = sum(1 for request in self.requests if request["headers"].get("x-casework-delivery") == delivery)
        status = 500 if seen < self.failures else 200
        self.requests.append({"headers": headers, "body": body, "status": status})
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b"down"})


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
def webhook_stack(temporal_env, read_model, stack_settings):
    @asynccontextmanager
    async def start(receiver: Receiver):
        queue = f"webhooks-{receiver.failures}-{time.monotonic_ns()}"
        async with receiving(receiver) as url, worker_on(temporal_env.client, read_model, queue, Webhook(url, SECRET)):
            async with serving(dataclasses.replace(stack_settings, task_queue=queue)) as client:
                yield Api(client)

    return start


async def test_an_assignment_is_posted_to_the_webhook_signed_with_hmac(webhook_stack):
    receiver = Receiver()
    async with webhook_stack(receiver) as api:
        case = await api.open(title="包裹")
        await api.act(case["id"], "assign", role="supervisor", data={"owner": "bo"})
        await eventually(lambda: receiver.requests, 20, "webhook request")
        (request,) = receiver.requests
        headers, body = request["headers"], request["body"]
        expected = hmac.new(SECRET.encode(), headers["x-casework-timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["x-casework-signature"] == f"sha256={expected}"
        assert abs(int(headers["x-casework-timestamp"]) - time.time()) < 60
        assert headers["x-casework-delivery"] == f"{case['id']}:2" and headers["x-casework-event"] == "assign"
        payload = json.loads(body)
        assert payload["event"]["data"] == {"owner": "bo"} and payload["case"]["title"] == "包裹"


async def test_a_delivery_that_fails_twice_succeeds_on_retry_with_nothing_lost_or_doubled(webhook_stack, http):
    receiver = Receiver(failures=2)
    async with webhook_stack(receiver) as api:
        case = await api.open()
        await api.act(case["id"], "assign", role="supervisor", data={"owner": "bo"})
        await api.act(case["id"], "assign", role="supervisor", data={"owner": "cy"})
        await eventually(lambda: sum(request["status"] == 200 for request in receiver.requests) == 2, 20, "second delivery")
        await asyncio.sleep(1.5)
        deliveries = [request["headers"]["x-casework-delivery"] for request in receiver.requests if request["status"] == 200]
        assert sorted(deliveries) == [f"{case['id']}:2", f"{case['id']}:3"]
        assert len(receiver.requests) == 6

        response = await api.client.get(f"/cases/{case['id']}/notifications", headers=auth("supervisor"))
        attempts = [(item["seq"], item["attempt"], item["outcome"], item["status_code"]) for item in response.json()["items"]]
        assert attempts == [(2, 1, "failed", 500), (2, 2, "failed", 500), (2, 3, "delivered", 200),
                            (3, 1, "failed", 500), (3, 2, "failed", 500), (3, 3, "delivered", 200)]  # fmt: skip
        assert (await api.client.get(f"/cases/{case['id']}/notifications", headers=auth("agent"))).status_code == 403


async def test_without_a_webhook_url_a_notification_is_a_log_line(api, http):
    case = await api.open()
    await api.act(case["id"], "assign", role="supervisor", data={"owner": "bo"})

    async def logged():
        response = await http.get(f"/cases/{case['id']}/notifications", headers=auth("auditor"))
        return response.json()["items"]

    items = await eventually(logged, 10, "logged notification")
    assert [(item["seq"], item["outcome"]) for item in items] == [(2, "logged")]
