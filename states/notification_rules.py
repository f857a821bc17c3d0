"""Who hears of what (CASEWORK_NOTIFICATIONS): the channels messages go out on, the rules that say
which audiences each kind of message reaches, and which kind of message an event is.

Pure: the file's TOML arrives here as plain data; the directory turns audiences into people
(service/notifications.py), the channels carry the words (workflows/channels/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from states.policy_error import PolicyError
from states.spec import KindSpec
from states.vocabulary import ChannelType, MessageKind, Role, SystemAction


class Audience(StrEnum):
    """Whom a rule names; the directory and the case say who they are."""

    OWNER = "owner"  # the case's owner
    TEAM_SUPERVISORS = "team_supervisors"  # its team's supervisors; the managers when it has none
    SUPERVISORS = "supervisors"  # every supervisor and manager
    PARTICIPANTS = "participants"  # a meeting's host, recorder and participants
    ACTION_ITEM_OWNER = "action_item_owner"
    AGENT = Role.AGENT.value  # whose quality check or assessment it is
    NAMED = "named"  # the people the event itself names (a meeting's newly set host, recorder, participants)


DEFAULT_RULES: dict[MessageKind, tuple[Audience, ...]] = {
    MessageKind.ASSIGNED: (Audience.OWNER,),
    MessageKind.DUE_SOON: (Audience.OWNER,),
    MessageKind.BREACHED: (Audience.OWNER, Audience.TEAM_SUPERVISORS),
    MessageKind.EMERGENCY_RAISED: (Audience.SUPERVISORS,),
    MessageKind.ESCALATED: (Audience.SUPERVISORS, Audience.TEAM_SUPERVISORS),
    MessageKind.ACTION_ITEM_DUE: (Audience.ACTION_ITEM_OWNER,),
    MessageKind.ACTION_ITEM_OVERDUE: (Audience.ACTION_ITEM_OWNER,),
    MessageKind.MEETING_SCHEDULED: (Audience.PARTICIPANTS,),
    MessageKind.MINUTES_PUBLISHED: (Audience.PARTICIPANTS,),
    MessageKind.QUALITY_SCORED: (Audience.AGENT,),
    MessageKind.ASSESSMENT_READY: (Audience.AGENT,),
    MessageKind.ATTENDEE_NAMED: (Audience.NAMED,),
    MessageKind.ACTION_ITEM_ASSIGNED: (Audience.ACTION_ITEM_OWNER,),
}
# Kinds that existing histories took without a message: the workflow gates them (NAMING_PATCH).
NAMING_MESSAGES = frozenset({MessageKind.ATTENDEE_NAMED, MessageKind.ACTION_ITEM_ASSIGNED})
# Which roles each audience can be (item 4: the settings page shows a user only what can reach her).
_ANYONE = frozenset(Role)
AUDIENCE_ROLES: dict[Audience, frozenset[Role]] = {
    Audience.OWNER: _ANYONE,
    Audience.TEAM_SUPERVISORS: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Audience.SUPERVISORS: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Audience.PARTICIPANTS: _ANYONE,
    Audience.ACTION_ITEM_OWNER: _ANYONE,
    Audience.AGENT: frozenset({Role.AGENT}),
    Audience.NAMED: _ANYONE,
}

# The timers' events and the message each one is.
TIMER_MESSAGES: dict[str, MessageKind] = {
    SystemAction.SLA_WARNING: MessageKind.DUE_SOON,
    SystemAction.SLA_BREACHED: MessageKind.BREACHED,
    SystemAction.ACTION_ITEM_DUE_SOON: MessageKind.ACTION_ITEM_DUE,
    SystemAction.ACTION_ITEM_OVERDUE: MessageKind.ACTION_ITEM_OVERDUE,
}
# The meeting people of a case's data (states/common.py ATTENDEE_FIELDS).
PEOPLE_KEYS = ("host", "recorder", "participants")
# Group chats: one message per event, in the department's language, with no case title (privacy).
ROBOT_TYPES = (ChannelType.WECOM, ChannelType.DINGTALK, ChannelType.FEISHU)
# Channels that get one message per event (robots and webhooks); email and the inbox are per person.
GROUP_TYPES = (*ROBOT_TYPES, ChannelType.WEBHOOK)
# The channel CASEWORK_WEBHOOK_URL makes: the old notifications' events (timers, assign, escalate), as they posted them.
LEGACY_WEBHOOK = "webhook"
CHANNEL_KEYS = ("name", "type", "url", "secret", "host", "port", "sender", "username", "password", "events")


@dataclass(frozen=True)
class ChannelConfig:
    """One `[[channels]]` entry, checked; workflows/channels' `Channel` is this class."""

    name: str
    type: ChannelType
    events: frozenset[MessageKind]
    url: str | None = None
    secret: str | None = field(default=None, repr=False)
    host: str | None = None
    port: int = 587
    sender: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    legacy: bool = False  # CASEWORK_WEBHOOK_URL's: the old notifications' events, whoever hears of them, in the old body


@dataclass(frozen=True)
class NotificationPolicy:
    channels: tuple[ChannelConfig, ...] = ()
    rules: Mapping[MessageKind, tuple[Audience, ...]] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def audiences(self, kind: MessageKind) -> tuple[Audience, ...]:
        return tuple(self.rules.get(kind, ()))

    def channels_for(self, kind: MessageKind) -> tuple[ChannelConfig, ...]:
        """The channels that carry this kind (the legacy webhook, every kind, among them)."""
        return tuple(channel for channel in self.channels if kind in channel.events)

    def legacy_webhook(self) -> ChannelConfig | None:
        return next((channel for channel in self.channels if channel.legacy), None)

    def channel(self, name: str) -> ChannelConfig | None:
        return next((channel for channel in self.channels if channel.name == name), None)


def parse_notification_policy(
    data: Mapping[str, Any] | None, webhook_url: str | None = None, webhook_secret: str | None = None
) -> NotificationPolicy:
    """The policy from the file's TOML (None: no file: the default rules, no channels); the old
    CASEWORK_WEBHOOK_URL becomes a legacy `webhook` channel named "webhook": every event the old
    notifications posted reaches it, whoever hears of it, with the old body and headers (docs/notifications.md)."""
    data = data or {}
    unknown = sorted(set(data) - {"channels", "rules"})
    if unknown:
        raise PolicyError(unknown[0], "unknown key (expected channels, rules)")
    raw_channels = data.get("channels", [])
    if not isinstance(raw_channels, list):
        raise PolicyError("channels", "must be an array of tables ([[channels]])")
    channels = [_channel(entry, f"channels[{index}]") for index, entry in enumerate(raw_channels)]
    if webhook_url:
        channels.append(
            ChannelConfig(LEGACY_WEBHOOK, ChannelType.WEBHOOK, frozenset(MessageKind), url=webhook_url, secret=webhook_secret, legacy=True)
        )
    names = [channel.name for channel in channels]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise PolicyError(f"channels[{index}].name", f"{name!r} is used twice")
    return NotificationPolicy(tuple(channels), _rules(data.get("rules", {})))


def _channel(entry: Any, path: str) -> ChannelConfig:
    if not isinstance(entry, Mapping):
        raise PolicyError(path, "must be a table")
    unknown = sorted(set(entry) - set(CHANNEL_KEYS))
    if unknown:
        raise PolicyError(f"{path}.{unknown[0]}", "unknown key")
    name = _text(entry, "name", path, required=True)
    try:
        kind = ChannelType(str(entry.get("type")))
    except ValueError:
        kind = None
    if kind is None or kind == ChannelType.INBOX:
        allowed = ", ".join(value for value in ChannelType if value != ChannelType.INBOX)
        raise PolicyError(f"{path}.type", f"must be one of {allowed}")
    events = entry.get("events", [value.value for value in MessageKind])
    if not isinstance(events, list) or not events:
        raise PolicyError(f"{path}.events", "must be a non-empty list of message kinds")
    kinds = frozenset(_message_kind(value, f"{path}.events") for value in events)
    port = entry.get("port", 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise PolicyError(f"{path}.port", "must be a port number")
    channel = ChannelConfig(
        name=name or "",
        type=kind,
        events=kinds,
        url=_text(entry, "url", path),
        secret=_text(entry, "secret", path),
        host=_text(entry, "host", path),
        port=port,
        sender=_text(entry, "sender", path),
        username=_text(entry, "username", path),
        password=_text(entry, "password", path),
    )
    if kind in GROUP_TYPES and not (channel.url or "").startswith(("http://", "https://")):
        raise PolicyError(f"{path}.url", f"an http(s) URL is required for {kind.value}")
    if kind == ChannelType.EMAIL:
        for required in ("host", "sender"):
            if not getattr(channel, required):
                raise PolicyError(f"{path}.{required}", "is required for email")
    return channel


def _rules(raw: Any) -> dict[MessageKind, tuple[Audience, ...]]:
    if not isinstance(raw, Mapping):
        raise PolicyError("rules", "must be a table of message kind = [audiences]")
    rules = dict(DEFAULT_RULES)
    for key, audiences in raw.items():
        kind = _message_kind(key, "rules")
        if not isinstance(audiences, list):
            raise PolicyError(f"rules.{key}", "must be a list of audiences")
        try:
            rules[kind] = tuple(dict.fromkeys(Audience(value) for value in audiences))
        except ValueError:
            raise PolicyError(f"rules.{key}", f"audiences are {', '.join(Audience)}") from None
    return rules


def _message_kind(value: Any, path: str) -> MessageKind:
    try:
        return MessageKind(value)
    except ValueError:
        raise PolicyError(path, f"{value!r} is not a message kind ({', '.join(MessageKind)})") from None


def _text(entry: Mapping[str, Any], key: str, path: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{path}.{key}", "must be a non-empty string")
    return value.strip()


def message_kind(spec: KindSpec | None, action: str) -> MessageKind | None:
    """Which message an event of a case of this kind is, if any: a timer's, the report's
    (the kind's report_message), or the action's declared message."""
    if action in TIMER_MESSAGES:
        return TIMER_MESSAGES[action]
    if spec is None:
        return None
    if action == SystemAction.REPORT:
        return spec.report_message
    declared = spec.by_name.get(action)
    return declared.message if declared is not None else None


def event_message(spec: KindSpec | None, action: str, data: Mapping[str, Any], reporter: str | None) -> MessageKind | None:
    """`message_kind`, and routing that gave the new case to someone other than its reporter: assigned to them."""
    if action == SystemAction.DISPATCH:
        owner = data.get("owner")
        return MessageKind.ASSIGNED if isinstance(owner, str) and owner and owner != reporter else None
    return message_kind(spec, action)


@dataclass(frozen=True)
class Subject:
    """What a message is about, as far as its audiences go (the directory fills in the rest)."""

    owner: str | None = None
    team: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)  # the case's data: the meeting people
    action_item_owner: str | None = None
    agent: str | None = None
    named: tuple[str, ...] = ()  # the people the event itself names
    actor: str | None = None  # who took the action: never among those told


def named_people(audiences: tuple[Audience, ...], subject: Subject) -> list[str]:
    """The people the audiences name directly, in order, once each; team_supervisors and supervisors
    need the directory (service/notifications.py)."""
    names: list[str] = []
    for audience in audiences:
        if audience == Audience.OWNER and subject.owner:
            names.append(subject.owner)
        elif audience == Audience.ACTION_ITEM_OWNER and subject.action_item_owner:
            names.append(subject.action_item_owner)
        elif audience == Audience.AGENT and subject.agent:
            names.append(subject.agent)
        elif audience == Audience.PARTICIPANTS:
            names += meeting_people(subject.data)
        elif audience == Audience.NAMED:
            names += [name for name in subject.named if name]
    return not_the_actor(names, subject.actor)


def not_the_actor(names: list[str], actor: str | None) -> list[str]:
    """The names once each, in order, without the person who took the action: nobody is told of
    what they did themselves."""
    return [name for name in dict.fromkeys(names) if name != actor]


def kinds_for_role(policy: NotificationPolicy, role: str) -> list[MessageKind]:
    """The kinds of message whose audiences can include someone of this role, in MessageKind order."""
    return [kind for kind in MessageKind if any(role in AUDIENCE_ROLES.get(audience, ()) for audience in policy.audiences(kind))]


def meeting_people(data: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for key in PEOPLE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            names.append(value)
        elif isinstance(value, list):
            names += [name for name in value if isinstance(name, str) and name]
    return list(dict.fromkeys(names))
