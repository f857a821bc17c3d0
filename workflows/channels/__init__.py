"""The channels a message goes out on: group chat robots (WeCom, DingTalk, Feishu), email, a generic
webhook. Each channel type is a module here with one `send`; `deliver` picks it by the channel's type.

A channel only transports: what to say and to whom was decided before (service/notifications.py);
the inbox is not a channel module, the console's inbox is written to the read model directly.

`recipients` may hold people without an address on the channel: a robot @-mentions only those with
its platform's id (the group still sees the message), email writes only to those with an address.
`addressable` tells the caller which ones a channel reaches, so it can log the others as skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from states.vocabulary import ChannelType
from workflows.channels import dingtalk, feishu, smtp, webhook, wecom
from workflows.channels.base import Channel, DeliveryFailed, Message, Recipient

__all__ = ["Channel", "DeliveryFailed", "Message", "Recipient", "addressable", "deliver"]

Send = Callable[[Channel, Message, list[Recipient]], Awaitable[int | None]]

SENDERS: dict[ChannelType, Send] = {
    ChannelType.WECOM: wecom.send,
    ChannelType.DINGTALK: dingtalk.send,
    ChannelType.FEISHU: feishu.send,
    ChannelType.EMAIL: smtp.send,
    ChannelType.WEBHOOK: webhook.send,
}

_ADDRESSES: dict[ChannelType, Callable[[Recipient], str | None]] = {
    ChannelType.WECOM: lambda recipient: recipient.wecom_id,
    ChannelType.DINGTALK: lambda recipient: recipient.dingtalk_id,
    ChannelType.FEISHU: lambda recipient: recipient.feishu_id,
    ChannelType.EMAIL: lambda recipient: recipient.email,
}


def addressable(channel_type: ChannelType, recipients: list[Recipient]) -> list[Recipient]:
    """The recipients `channel_type` reaches by name: everyone for the webhook (it names nobody), those
    with the platform's id for a robot (others only see the group message), those with an address for
    email."""
    address = _ADDRESSES.get(channel_type)
    return list(recipients) if address is None else [recipient for recipient in recipients if address(recipient)]


async def deliver(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    """Send `message` to `recipients` over `channel` (a group robot @-mentions them; email writes
    to each); the HTTP or SMTP status on success (None when email had nobody to write to),
    DeliveryFailed otherwise."""
    send = SENDERS.get(channel.type)
    if send is None:
        raise DeliveryFailed(f"channel type {channel.type} is not delivered by workflows.channels", retryable=False)
    return await send(channel, message, recipients)
