"""The channels a message goes out on: group chat robots (WeCom, DingTalk, Feishu), email, a generic
webhook. Each channel type is a module here with one `send`; `deliver` picks it by the channel's type.

A channel only transports: what to say and to whom was decided before (service/notifications.py);
the inbox is not a channel module, the console's inbox is written to the read model directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from states.vocabulary import ChannelType, MessageKind


@dataclass(frozen=True)
class Channel:
    """One `[[channels]]` entry of CASEWORK_NOTIFICATIONS."""

    name: str
    type: ChannelType
    events: frozenset[MessageKind]
    url: str | None = None  # robots and webhook
    secret: str | None = field(default=None, repr=False)  # robots' signing secret, webhook's whsec_ key
    host: str | None = None  # email: the SMTP server
    port: int = 587
    sender: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Recipient:
    """A person a message is for, with their addresses from the directory (any may be missing)."""

    name: str
    display_name: str
    language: str
    email: str | None = None
    wecom_id: str | None = None
    dingtalk_id: str | None = None
    feishu_id: str | None = None


@dataclass(frozen=True)
class Message:
    """What is said, already in one language: short, with a deep link to the console."""

    id: str  # the same on every retry: receivers de-duplicate by it
    kind: MessageKind
    language: str
    subject: str
    text: str
    link: str | None = None
    case_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the webhook's JSON body carries it


class DeliveryFailed(Exception):
    """The channel did not take the message; `retryable` False means trying again cannot help."""

    def __init__(self, reason: str, status_code: int | None = None, retryable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable


async def deliver(channel: Channel, message: Message, recipients: list[Recipient]) -> int | None:
    """Send `message` to `recipients` over `channel` (a group robot @-mentions them; email writes
    to each); the HTTP or SMTP status on success, DeliveryFailed otherwise."""
    raise NotImplementedError("workflows/channels: being built")
