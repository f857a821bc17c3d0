"""Email against a real SMTP server (aiosmtpd) on localhost that requires STARTTLS, with a throw-away
certificate, and a login."""

from __future__ import annotations

import dataclasses
import email
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from states.vocabulary import ChannelType, MessageKind
from tests.conftest import free_port
from tests.e2e.tls import ThrowAwayCA
from workflows.channels import Channel, DeliveryFailed, Message, Recipient, deliver
from workflows.messages import ChannelDelivery, DeliverInput, MessageActivities

USER, PASSWORD = "casework@example.cn", "smtp-password-42"
MESSAGE = Message(
    id="case-42:9",
    kind=MessageKind.ASSIGNED,
    language="zh-CN",
    subject="【分派】新的投诉案件：订单未发货 <紧急>",
    text='你有一个新案件。\n客户说："货呢？" & 请今天回复。',
    link="https://casework.example.cn/console/cases/case-42",
    case_id="case-42",
)
WANG = Recipient("wang", "王芳", "zh-CN", email="wang@example.cn")
LI = Recipient("li", "李雷", "zh-CN", email="li@example.cn")
NO_ADDRESS = Recipient("zhao", "赵敏", "zh-CN", wecom_id="ZhaoMin")


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=default)))
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Iterator[tuple[ssl.SSLContext, str]]:
    ca = ThrowAwayCA(tmp_path_factory.mktemp("smtp-tls"))
    pair = ca.issue("smtp.test", server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pair.cert, pair.key)
    yield context, str(ca.cert)


def smtp_server(inbox: Inbox, context: ssl.SSLContext | None, port: int) -> Controller:
    return Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=context is not None,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )


@pytest.fixture
def trusted(certificate, monkeypatch) -> ssl.SSLContext:
    """The client trusts the throw-away authority as it would a system one (SSL_CERT_FILE)."""
    context, ca_file = certificate
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    return context


def channel(port: int, password: str = PASSWORD) -> Channel:
    return Channel(
        name="mail",
        type=ChannelType.EMAIL,
        events=frozenset({MessageKind.ASSIGNED}),
        host="localhost",
        port=port,
        sender="Casework <casework@example.cn>",
        username=USER,
        password=password,
    )


async def test_email_is_sent_over_starttls_with_login_one_per_recipient_in_plain_text_and_html(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    try:
        status = await deliver(channel(port), MESSAGE, [WANG, NO_ADDRESS, LI])
    finally:
        server.stop()
    assert status == 250
    assert [to for to, _ in inbox.received] == [["wang@example.cn"], ["li@example.cn"]]
    to_wang = inbox.received[0][1]
    assert to_wang["Subject"] == MESSAGE.subject
    assert to_wang["X-Casework-Message"] == MESSAGE.id
    assert "王芳" in to_wang["To"]
    assert to_wang.get_content_type() == "multipart/alternative"
    plain, html = to_wang.get_body(("plain",)), to_wang.get_body(("html",))
    assert plain is not None and html is not None
    plain_text = plain.get_content().replace("\r\n", "\n")
    assert MESSAGE.text in plain_text and MESSAGE.link in plain_text
    html_text = html.get_content()
    assert "客户说：&quot;货呢？&quot; &amp; 请今天回复。" in html_text and "&lt;紧急&gt;" in html_text
    assert f'href="{MESSAGE.link}"' in html_text
    # Each recipient's email has its own Message-ID, and a retry makes the same one.
    assert to_wang["Message-ID"] != inbox.received[1][1]["Message-ID"]


async def test_a_retry_sends_the_same_message_id(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    try:
        await deliver(channel(port), MESSAGE, [WANG])
        await deliver(channel(port), MESSAGE, [WANG])
    finally:
        server.stop()
    assert inbox.received[0][1]["Message-ID"] == inbox.received[1][1]["Message-ID"]


async def test_nobody_with_an_address_sends_nothing(trusted):
    assert await deliver(channel(free_port()), MESSAGE, [NO_ADDRESS]) is None


async def test_a_wrong_password_is_retried_coded_while_the_policy_is_fixed(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    try:
        with pytest.raises(DeliveryFailed) as refused:
            await deliver(channel(port, password="wrong"), MESSAGE, [WANG])
    finally:
        server.stop()
    assert (refused.value.retryable, refused.value.status_code, refused.value.code) == (True, 535, "smtp_535")
    assert "wrong" not in refused.value.reason and not inbox.received


async def test_a_server_without_starttls_gets_no_password(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, None, port)
    server.start()
    try:
        with pytest.raises(DeliveryFailed) as refused:
            await deliver(channel(port), MESSAGE, [WANG])
    finally:
        server.stop()
    assert refused.value.code == "smtp_no_starttls" and "STARTTLS" in refused.value.reason and not inbox.received


async def test_a_server_that_is_down_is_retried(trusted):
    with pytest.raises(DeliveryFailed) as down:
        await deliver(channel(free_port()), MESSAGE, [WANG])
    assert down.value.retryable is True


class Busy(Inbox):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "451 4.3.0 try again later"


async def test_a_server_saying_try_later_is_retried(trusted):
    port = free_port()
    server = smtp_server(Busy(), trusted, port)
    server.start()
    try:
        with pytest.raises(DeliveryFailed) as later:
            await deliver(channel(port), MESSAGE, [WANG])
    finally:
        server.stop()
    assert (later.value.retryable, later.value.status_code) == (True, 451)


async def test_a_newline_in_the_subject_is_one_space_and_the_email_goes(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    try:
        two_lines = Message(
            MESSAGE.id, MESSAGE.kind, MESSAGE.language, "【分配给我】订单\n未发货\r\n Bcc: x@evil.example", MESSAGE.text, MESSAGE.link
        )
        assert await deliver(channel(port), two_lines, [WANG]) == 250
    finally:
        server.stop()
    ((_, mail),) = inbox.received
    assert mail["Subject"] == "【分配给我】订单 未发货 Bcc: x@evil.example" and mail["Bcc"] is None


async def test_an_email_that_cannot_be_formed_is_final_and_coded(trusted):
    broken = Recipient("bad", "坏\n名字", "zh-CN", email="bad@example.cn\nBcc: x@evil.example")
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(channel(free_port()), MESSAGE, [broken])
    assert (failed.value.retryable, failed.value.code) == (False, "malformed_message")


class RefusesLi(Inbox):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address == LI.email:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_an_address_refused_for_good_is_coded_for_that_recipient(trusted):
    inbox, port = RefusesLi(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    try:
        with pytest.raises(DeliveryFailed) as refused:
            await deliver(channel(port), MESSAGE, [LI])
    finally:
        server.stop()
    assert (refused.value.code, refused.value.status_code) == ("recipient_refused", 550)


class Office:
    """The worker's office as the activity sees it: the channel, and the log of attempts."""

    def __init__(self, channel: Channel):
        self._channel = channel
        self.log: list[tuple[list[str], int, str, int | None, str | None]] = []

    async def prepare(self, request: Any) -> list[ChannelDelivery]:
        return []

    async def channel(self, name: str) -> Channel | None:
        return self._channel

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None:
        self.log.append(([r.name for r in delivery.recipients], attempt, str(status), status_code, error))


ZHANG = Recipient("zhang", "张伟", "zh-CN", email="zhang@example.cn")


async def test_the_activity_goes_past_a_refused_address_logs_it_for_that_recipient_and_heartbeats_who_was_sent(trusted):
    inbox, port = RefusesLi(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    office, beats = Office(channel(port)), []
    environment = ActivityEnvironment()
    environment.on_heartbeat = lambda *details: beats.append(details)
    try:
        status = await environment.run(
            MessageActivities(office, "q").deliver_message, DeliverInput(ChannelDelivery("mail", MESSAGE, [WANG, LI, ZHANG]))
        )
    finally:
        server.stop()
    assert status == 250
    assert [to for to, _ in inbox.received] == [["wang@example.cn"], ["zhang@example.cn"]]
    assert office.log[0][:3] == (["li"], 1, "failed") and str(office.log[0][4]).startswith("recipient_refused: li: ")
    assert office.log[1] == (["wang", "zhang"], 1, "delivered", 250, None)
    assert beats[-1] == (["li", "wang", "zhang"],)


async def test_a_retry_sends_only_to_whom_the_last_attempt_had_not_sent(trusted):
    inbox, port = Inbox(), free_port()
    server = smtp_server(inbox, trusted, port)
    server.start()
    office = Office(channel(port))
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(ActivityEnvironment.default_info(), attempt=2, heartbeat_details=[["wang"]])
    try:
        await environment.run(MessageActivities(office, "q").deliver_message, DeliverInput(ChannelDelivery("mail", MESSAGE, [WANG, ZHANG])))
    finally:
        server.stop()
    assert [to for to, _ in inbox.received] == [["zhang@example.cn"]]
    assert office.log == [(["zhang"], 2, "delivered", 250, None)]


async def test_a_server_down_fails_the_attempt_coded_for_those_not_sent_and_it_is_retried(trusted):
    office = Office(channel(free_port()))
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(ActivityEnvironment.default_info(), attempt=3, heartbeat_details=[["wang"]])
    with pytest.raises(ApplicationError) as failed:
        await environment.run(MessageActivities(office, "q").deliver_message, DeliverInput(ChannelDelivery("mail", MESSAGE, [WANG, ZHANG])))
    assert failed.value.non_retryable is False and failed.value.type == "network_error"
    (entry,) = office.log
    assert entry[:3] == (["zhang"], 3, "failed") and str(entry[4]).startswith("network_error: ")


async def test_a_message_that_cannot_be_formed_is_logged_coded_and_not_retried(trusted):
    office = Office(channel(free_port()))
    broken = Recipient("bad", "坏", "zh-CN", email="bad@example.cn\nBcc: x@evil.example")
    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(MessageActivities(office, "q").deliver_message, DeliverInput(ChannelDelivery("mail", MESSAGE, [broken])))
    assert failed.value.non_retryable is True and str(office.log[0][4]).startswith("malformed_message: ")
