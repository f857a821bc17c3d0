"""The generic webhook: Standard Webhooks headers verified with the standardwebhooks package's own
verifier, and the old X-Casework-Signature checked with an independent HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from states.vocabulary import ChannelType, MessageKind
from tests.channels.fakes import FakeServer
from tests.conftest import free_port
from workflows.channels import Channel, DeliveryFailed, Message, Recipient, deliver

WHSEC = "whsec_" + base64.b64encode(b"a shared key of thirty-two bytes").decode()
MESSAGE = Message(
    id="msg_case-42_7",
    kind=MessageKind.ESCALATED,
    language="zh-CN",
    subject="【升级】案件已升级为紧急会议",
    text="请主管尽快处理。",
    link="https://casework.example.cn/console/cases/case-42",
    case_id="case-42",
    data={"delivery": "case-42:7", "event": {"action": "escalate", "seq": 7}, "case": {"id": "case-42", "title": "订单未发货"}},
)
WANG = Recipient("wang", "王芳", "zh-CN")


def channel(url: str, secret: str | None) -> Channel:
    return Channel(name="hook", type=ChannelType.WEBHOOK, events=frozenset({MessageKind.ESCALATED}), url=url, secret=secret)


async def post(secret: str | None):
    with FakeServer(lambda request: (202, {"accepted": True})) as server:
        status = await deliver(channel(server.base + "/hooks/casework", secret), MESSAGE, [WANG])
    assert status == 202
    (request,) = server.requests
    return request


async def test_the_webhook_is_signed_the_standard_webhooks_way_with_a_whsec_key():
    request = await post(WHSEC)
    payload = Webhook(WHSEC).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == MESSAGE.id
    assert payload["message"] == {
        "id": MESSAGE.id,
        "kind": "escalated",
        "language": "zh-CN",
        "subject": MESSAGE.subject,
        "text": MESSAGE.text,
        "link": MESSAGE.link,
        "case_id": "case-42",
    }
    assert payload["case"]["title"] == "订单未发货" and payload["delivery"] == "case-42:7"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another key").decode()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(WHSEC).verify(request.body.replace("紧急".encode(), "普通".encode()), request.headers)


async def test_a_plain_secret_is_the_key_as_utf8_bytes():
    secret = "a plain shared secret"
    request = await post(secret)
    # What docs/notifications.md tells a receiver: whsec_ + base64 of the secret's UTF-8 bytes.
    Webhook("whsec_" + base64.b64encode(secret.encode()).decode()).verify(request.body, request.headers)


async def test_the_old_signature_headers_stay_for_one_release():
    secret = "a plain shared secret"
    request = await post(secret)
    timestamp = request.headers["x-casework-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-casework-signature"] == f"sha256={expected}"
    assert request.headers["x-casework-delivery"] == "case-42:7"
    assert request.headers["x-casework-event"] == "escalate"
    assert timestamp == request.headers["webhook-timestamp"]


async def test_without_a_secret_nothing_is_signed_but_the_id_is_sent():
    request = await post(None)
    assert request.headers["webhook-id"] == MESSAGE.id
    assert "webhook-signature" not in request.headers and "x-casework-signature" not in request.headers
    assert json.loads(request.body)["message"]["kind"] == "escalated"


async def test_a_webhook_that_is_down_or_refuses_is_retried_coded():
    with pytest.raises(DeliveryFailed) as down:
        await deliver(channel(f"http://127.0.0.1:{free_port()}/hook", WHSEC), MESSAGE, [])
    with FakeServer(lambda request: (503, {})) as server:
        with pytest.raises(DeliveryFailed) as unavailable:
            await deliver(channel(server.base + "/hook", WHSEC), MESSAGE, [])
    with FakeServer(lambda request: (401, {})) as server:
        with pytest.raises(DeliveryFailed) as refused:
            await deliver(channel(server.base + "/hook", WHSEC), MESSAGE, [])
    assert down.value.retryable and unavailable.value.retryable and unavailable.value.status_code == 503
    assert (refused.value.retryable, refused.value.status_code, refused.value.code) == (True, 401, "http_401")


async def test_the_old_delivery_and_event_headers_fall_back_to_the_message_id_and_kind():
    bare = Message(id="msg-1", kind=MessageKind.MINUTES_PUBLISHED, language="en", subject="Minutes published", text="")
    with FakeServer(lambda request: (200, {})) as server:
        await deliver(channel(server.base + "/hook", WHSEC), bare, [])
    headers = server.requests[0].headers
    assert (headers["x-casework-delivery"], headers["x-casework-event"]) == ("msg-1", "minutes_published")
    assert json.loads(server.requests[0].body) == {
        "message": {
            "id": "msg-1",
            "kind": "minutes_published",
            "language": "en",
            "subject": "Minutes published",
            "text": "",
            "link": None,
            "case_id": None,
        }
    }
