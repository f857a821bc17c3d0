"""The group robots against local fakes that check each platform's signature as documented:
WeCom (key in the URL), DingTalk (加签: timestamp and sign query parameters), Feishu (签名校验:
timestamp and sign in the body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from typing import Any

import pytest

from states.notification_rules import ChannelConfig
from states.vocabulary import ChannelType, MessageKind
from tests.channels.fakes import FakeServer, Request
from tests.conftest import free_port
from workflows.channels import Channel, DeliveryFailed, Message, Recipient, addressable, deliver
from workflows.channels.base import redact

SECRET = "SECa1b2c3d4e5f6-robot-secret"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
MESSAGE = Message(
    id="case-42:7",
    kind=MessageKind.BREACHED,
    language="zh-CN",
    subject="【超时】客户投诉：订单未发货",
    text="首次响应已超时，请尽快处理。",
    link="https://casework.example.cn/console/cases/case-42",
    case_id="case-42",
)
WANG = Recipient("wang", "王芳", "zh-CN", wecom_id="WangFang", dingtalk_id="ding-wang", feishu_id="ou_wang")
LI = Recipient("li", "李雷", "zh-CN", wecom_id="LiLei", dingtalk_id="ding-li", feishu_id="ou_li")
NOBODY = Recipient("zhao", "赵敏", "zh-CN")  # no IM ids: not @-mentioned


def channel(kind: ChannelType, url: str, secret: str | None = None) -> Channel:
    return Channel(name=f"{kind}-robot", type=kind, events=frozenset({MessageKind.BREACHED}), url=url, secret=secret)


# --- the platforms, as documented -------------------------------------------------------------


def wecom(request: Request) -> tuple[int, dict[str, Any]]:
    """企业微信: the key in the URL is the credential; 93000 is an invalid webhook URL."""
    if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != [WECOM_KEY]:
        return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
    body = request.json()
    if body.get("msgtype") != "text" or not body["text"].get("content"):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def dingtalk(request: Request) -> tuple[int, dict[str, Any]]:
    """钉钉 加签: sign = urlEncode(base64(HmacSHA256(key=secret, data=timestamp + "\\n" + secret))),
    the timestamp in milliseconds and within an hour; 310000 when it does not match."""
    timestamp, sign = request.query.get("timestamp", [""])[0], request.query.get("sign", [""])[0]
    string_to_sign = f"{timestamp}\n{SECRET}"
    expected = base64.b64encode(hmac.new(SECRET.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()).decode()
    fresh = timestamp.isdigit() and abs(int(timestamp) - time.time() * 1000) < 3600 * 1000
    if request.query.get("access_token") != ["ding-token"] or not fresh or not hmac.compare_digest(sign, expected):
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def feishu(request: Request) -> tuple[int, dict[str, Any]]:
    """飞书 签名校验: sign = base64(HmacSHA256(key=timestamp + "\\n" + secret, data="")), the
    timestamp in seconds and within an hour; 19021 when it does not match."""
    body = request.json()
    timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
    expected = base64.b64encode(hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()).decode()
    fresh = timestamp.isdigit() and abs(int(timestamp) - time.time()) < 3600
    if not fresh or not hmac.compare_digest(sign, expected):
        return 200, {"code": 19021, "data": {}, "msg": "sign match fail or timestamp is not within one hour from current time"}
    if body.get("msg_type") != "text":
        return 200, {"code": 9499, "data": {}, "msg": "Bad Request"}
    return 200, {"code": 0, "data": {}, "msg": "success"}


PLATFORMS = {
    ChannelType.WECOM: (wecom, f"/cgi-bin/webhook/send?key={WECOM_KEY}"),
    ChannelType.DINGTALK: (dingtalk, "/robot/send?access_token=ding-token"),
    ChannelType.FEISHU: (feishu, "/open-apis/bot/v2/hook/feishu-hook-token"),
}


def mentioned(kind: ChannelType, request: Request) -> list[str]:
    body = request.json()
    if kind is ChannelType.WECOM:
        return body["text"].get("mentioned_list", [])
    if kind is ChannelType.DINGTALK:
        return body["at"]["atUserIds"]
    return [part.split('"')[1] for part in body["content"]["text"].split("<at user_id=")[1:]]


# --- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(PLATFORMS))
async def test_a_robot_delivers_and_at_mentions_the_recipients_with_ids(kind):
    answer, path = PLATFORMS[kind]
    with FakeServer(answer) as server:
        status = await deliver(channel(kind, server.base + path, SECRET), MESSAGE, [WANG, LI, NOBODY])
    assert status == 200
    (request,) = server.requests
    ids = {ChannelType.WECOM: ["WangFang", "LiLei"], ChannelType.DINGTALK: ["ding-wang", "ding-li"], ChannelType.FEISHU: ["ou_wang", "ou_li"]}
    assert mentioned(kind, request) == ids[kind]
    text = request.body.decode()
    assert "首次响应已超时" in text and str(MESSAGE.link) in text


async def test_dingtalk_writes_each_at_in_the_markdown_text_too():
    with FakeServer(dingtalk) as server:
        await deliver(channel(ChannelType.DINGTALK, server.base + PLATFORMS[ChannelType.DINGTALK][1], SECRET), MESSAGE, [WANG])
    body = server.requests[0].json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == MESSAGE.subject
    assert "@ding-wang" in body["markdown"]["text"] and body["at"]["isAtAll"] is False


async def test_feishu_names_who_it_mentions():
    with FakeServer(feishu) as server:
        await deliver(channel(ChannelType.FEISHU, server.base + PLATFORMS[ChannelType.FEISHU][1], SECRET), MESSAGE, [WANG])
    assert '<at user_id="ou_wang">王芳</at>' in server.requests[0].json()["content"]["text"]


@pytest.mark.parametrize(("kind", "code"), [(ChannelType.DINGTALK, 310000), (ChannelType.FEISHU, 19021)])
async def test_a_wrong_secret_gets_the_platforms_signature_error_and_is_retried_coded(kind, code):
    answer, path = PLATFORMS[kind]
    with FakeServer(answer) as server:
        with pytest.raises(DeliveryFailed) as failed:
            await deliver(channel(kind, server.base + path, "SECnot-the-robots-secret"), MESSAGE, [WANG])
    # A rotated secret is fixed in the policy while the message waits: retried, coded for the log.
    assert (failed.value.retryable, failed.value.code) == (True, "signature_refused")
    assert str(code) in failed.value.reason


async def test_a_wrong_wecom_key_is_retried_and_the_key_is_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "0000-wrong-key-0000"
    with FakeServer(wecom) as server:
        with pytest.raises(DeliveryFailed) as failed:
            await deliver(channel(ChannelType.WECOM, f"{server.base}/cgi-bin/webhook/send?key={wrong}"), MESSAGE, [WANG])
    assert failed.value.retryable is True and failed.value.code == "robot_refused" and "93000" in failed.value.reason
    # httpx's own request log is turned down where logging is set up (service/observability.py): here only ours is read.
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("casework")]
    assert ours and not any(wrong in line or "首次响应" in line for line in ours)
    assert wrong not in failed.value.reason


@pytest.mark.parametrize("kind", list(PLATFORMS))
async def test_a_robot_that_is_down_or_failing_is_retried(kind):
    _, path = PLATFORMS[kind]
    with pytest.raises(DeliveryFailed) as down:
        await deliver(channel(kind, f"http://127.0.0.1:{free_port()}{path}", SECRET), MESSAGE, [WANG])
    assert down.value.retryable is True and down.value.status_code is None and down.value.code == "network_error"
    with FakeServer(lambda request: (500, {"message": "internal error"})) as server:
        with pytest.raises(DeliveryFailed) as failing:
            await deliver(channel(kind, server.base + path, SECRET), MESSAGE, [WANG])
    assert failing.value.retryable is True and failing.value.status_code == 500 and failing.value.code == "http_500"


@pytest.mark.parametrize(
    ("kind", "busy"),
    [
        (ChannelType.WECOM, {"errcode": 45009, "errmsg": "api freq out of limit"}),
        (ChannelType.DINGTALK, {"errcode": 130101, "errmsg": "send too fast"}),
        (ChannelType.FEISHU, {"code": 11232, "msg": "frequency limited"}),
    ],
)
async def test_a_robots_rate_limit_is_retried(kind, busy):
    _, path = PLATFORMS[kind]
    with FakeServer(lambda request: (200, busy)) as server:
        with pytest.raises(DeliveryFailed) as limited:
            await deliver(channel(kind, server.base + path, SECRET), MESSAGE, [WANG])
    assert limited.value.retryable is True and limited.value.code == "robot_busy"


async def test_feishu_accepts_the_older_status_code_answer():
    with FakeServer(lambda request: (200, {"StatusCode": 0, "StatusMessage": "success", "Extra": None})) as server:
        assert await deliver(channel(ChannelType.FEISHU, server.base + "/open-apis/bot/v2/hook/x"), MESSAGE, []) == 200


async def test_a_429_is_retried_and_so_is_another_4xx_a_proxy_may_answer_in_an_outage():
    with FakeServer(lambda request: (429, {})) as server:
        with pytest.raises(DeliveryFailed) as limited:
            await deliver(channel(ChannelType.WECOM, server.base + "/cgi-bin/webhook/send?key=k"), MESSAGE, [])
    with FakeServer(lambda request: (404, {})) as server:
        with pytest.raises(DeliveryFailed) as missing:
            await deliver(channel(ChannelType.WECOM, server.base + "/cgi-bin/webhook/send?key=k"), MESSAGE, [])
    assert (limited.value.retryable, limited.value.status_code) == (True, 429)
    assert (missing.value.retryable, missing.value.status_code, missing.value.code) == (True, 404, "http_404")


async def test_the_inbox_is_not_a_channel_here():
    inbox = Channel(name="inbox", type=ChannelType.INBOX, events=frozenset())
    with pytest.raises(DeliveryFailed) as refused:
        await deliver(inbox, MESSAGE, [WANG])
    assert refused.value.retryable is False


def test_addressable_names_who_a_channel_reaches():
    assert addressable(ChannelType.WECOM, [WANG, NOBODY]) == [WANG]
    assert addressable(ChannelType.EMAIL, [WANG, NOBODY]) == []
    assert addressable(ChannelType.WEBHOOK, [WANG, NOBODY]) == [WANG, NOBODY]


def test_a_url_is_logged_without_its_key_or_token():
    assert redact(f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}") == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    assert redact("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x") == (
        "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=***&sign=***"
    )
    assert redact("https://open.feishu.cn/open-apis/bot/v2/hook/0d9f-secret-hook") == "https://open.feishu.cn/open-apis/bot/v2/hook/***"
    assert redact("https://user:pw@hooks.example.cn/casework") == "https://hooks.example.cn/casework"


EVIL = Message(
    id="case-43:2",
    kind=MessageKind.ASSIGNED,
    language="zh-CN",
    subject='【分配给我】[点此登录](http://evil.example) ![](http://t.example/x.png) <at user_id="all">所有人</at>',
    text='投诉「[点此登录](http://evil.example)」 ![](http://t.example/x.png) <at user_id="all">所有人</at>',
    link="https://casework.example.cn/console/cases/case-43",
    case_id="case-43",
)


async def test_dingtalk_markdown_makes_no_link_image_or_tag_of_a_cases_words():
    with FakeServer(dingtalk) as server:
        await deliver(channel(ChannelType.DINGTALK, server.base + PLATFORMS[ChannelType.DINGTALK][1], SECRET), EVIL, [WANG])
    markdown = server.requests[0].json()["markdown"]
    text = markdown["text"]
    assert "](http://evil.example)" not in text and "![](" not in text and "<at" not in text
    assert r"\[点此登录\]\(http://evil" in text  # shown as written, escaped
    assert "](http://evil.example)" not in markdown["title"]
    assert f"[{EVIL.link}]({EVIL.link})" in text  # the console's own link stays a link


async def test_feishu_text_mentions_only_the_recipients_never_everyone_from_a_title():
    with FakeServer(feishu) as server:
        await deliver(channel(ChannelType.FEISHU, server.base + PLATFORMS[ChannelType.FEISHU][1], SECRET), EVIL, [WANG])
    text = server.requests[0].json()["content"]["text"]
    assert '<at user_id="all">' not in text and "<at user_id=" in text
    assert mentioned(ChannelType.FEISHU, server.requests[0]) == ["ou_wang"]


def test_a_channel_is_the_policys_checked_entry_one_class():
    assert Channel is ChannelConfig
