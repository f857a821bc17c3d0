"""Directory addresses, each person's own on/off per kind, the inbox and the delivery log, on SQLite
and PostgreSQL alike."""

import pytest

from api.labels import label
from service.directory import Directory, DirectoryError
from service.notifications import Notifications, mask_contacts
from states.notification_rules import parse_notification_policy
from states.vocabulary import MessageKind
from workflows.channels import Recipient
from workflows.messages import AnnounceInput, ChannelDelivery


async def test_addresses_round_trip_and_are_checked(read_model):
    directory = Directory(read_model)
    await directory.add("lin", "agent", None, "林", "en")
    await directory.set_addresses("lin", {"email": "lin@example.com", "wecom_id": "LinWei", "dingtalk_id": "0123", "feishu_id": "ou_1"})
    person = await directory.person("lin")
    assert person is not None
    assert (person.email, person.wecom_id, person.dingtalk_id, person.feishu_id) == ("lin@example.com", "LinWei", "0123", "ou_1")
    await directory.set_addresses("lin", {"wecom_id": ""})
    changed = await directory.person("lin")
    assert changed is not None and changed.wecom_id is None
    with pytest.raises(DirectoryError, match="email"):
        await directory.set_addresses("lin", {"email": "not-an-address"})
    with pytest.raises(DirectoryError, match="phone"):
        await directory.set_addresses("lin", {"phone": "1"})


async def test_preferences_round_trip_and_turn_a_person_off_for_that_kind_only(read_model):
    directory = Directory(read_model)
    await directory.add("ann2", "agent", None)
    await directory.add("bo2", "agent", None)
    notifications = Notifications(read_model, parse_notification_policy(None), "http://console.example", label)
    assert await notifications.turned_off("ann2") == set()
    await notifications.set_turned_off("ann2", ["assigned", "due_soon"])
    assert await notifications.turned_off("ann2") == {"assigned", "due_soon"}
    await notifications.set_turned_off("ann2", ["due_soon"])
    assert await notifications.turned_off("ann2") == {"due_soon"}

    due = AnnounceInput("c1:5", MessageKind.DUE_SOON, "c1", "complaint", "客户 13812345678 投诉", owner="ann2")
    assert await notifications.prepare(due) == []
    assert await notifications.inbox("ann2") == []
    assigned = AnnounceInput("c1:6", MessageKind.ASSIGNED, "c1", "complaint", "客户 13812345678 投诉", owner="ann2")
    await notifications.prepare(assigned)
    await notifications.prepare(assigned)  # a retried announcement writes nothing twice
    (item,) = await notifications.inbox("ann2")
    assert item.link == "http://console.example/ui/cases/c1" and "138****5678" in item.text and "13812345678" not in item.text
    assert item.subject == "【分配给我】客户 138****5678 投诉" and item.text.startswith("投诉「")
    assert await notifications.unread("ann2") == 1
    assert not await notifications.mark_read("bo2", item.id)
    assert await notifications.mark_read("ann2", item.id)
    assert await notifications.unread("ann2") == 0


async def test_every_attempt_is_in_the_log_once(read_model):
    notifications = Notifications(read_model)
    message = Notifications(read_model).compose(AnnounceInput("c2:3", MessageKind.BREACHED, "c2", "complaint", "t"), MessageKind.BREACHED, "zh-CN")
    delivery = ChannelDelivery("hook", message, [Recipient("ann", "Ann", "zh-CN")])
    await notifications.record_attempt(delivery, 1, "failed", 503, None)
    await notifications.record_attempt(delivery, 1, "failed", 503, None)
    await notifications.record_attempt(delivery, 2, "delivered", 200, None)
    attempts = await notifications.attempts(case_id="c2")
    assert [(a.attempt, a.status, a.status_code, a.recipients) for a in attempts] == [(2, "delivered", 200, ["ann"]), (1, "failed", 503, ["ann"])]
    assert [a.attempt for a in await notifications.attempts(status="failed", case_id="c2")] == [1]


def test_contacts_in_a_title_are_masked():
    assert mask_contacts("张三 13812345678 zhang.san@example.com") == "张三 138****5678 z***@example.com"
