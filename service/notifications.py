"""Who hears of what, and what they are told (issue #19 part 3): the rules' audiences turned into
people from the directory, each person's own on/off per kind, the console's inbox, and the log of
every delivery attempt. The worker's `announce` and `deliver_message` activities call in here
(workflows/messages.py `MessageOffice`); the API reads the inbox and the log.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, insert, select, update
from temporalio.client import Client

from service.read_model import ReadModel
from service.read_model import _event_from_row as event_from_row
from service.settings import User
from service.tables import cases, events, inbox_messages, message_deliveries, notification_preferences, team_members, users
from states.case import as_utc
from states.machine import notifies
from states.notification_rules import GROUP_TYPES, ROBOT_TYPES, Audience, NotificationPolicy, Subject, named_people, not_the_actor
from states.vocabulary import SUPERVISING_ROLES, ChannelType, DeliveryStatus, MessageKind, Role
from workflows.channels import Channel, Message, Recipient
from workflows.channels.base import TURNED_OFF
from workflows.messages import AnnounceInput, ChannelDelivery, coded, start_delivery

# (language, catalog context, term) → the label: api/labels.py's `label`, given by the wiring.
Wording = Callable[[str, str, str], str]
MESSAGE_CONTEXT = "message"
DEFAULT_LANGUAGE = "zh-CN"
# Phone numbers and email addresses a title may carry: masked, as states/masking.py does.
_PHONE = re.compile(r"\d{3}(\d{4,})(\d{4})")
_EMAIL = re.compile(r"([^\s@])[^\s@]*@([^\s@]+)")
MAX_PAGE = 200


@dataclass(frozen=True)
class InboxItem:
    id: int
    message_id: str
    kind: str
    case_id: str | None
    subject: str
    text: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    id: int
    message_id: str
    kind: str
    case_id: str | None
    channel: str
    language: str
    recipients: list[str]
    attempt: int
    status: str
    status_code: int | None
    error: str | None
    at: datetime


class Notifications:
    """The read model's side of messages: preferences, inbox, delivery log; and the worker's office."""

    def __init__(
        self,
        read_model: ReadModel,
        policy: NotificationPolicy | None = None,
        console_url: str = "",
        wording: Wording | None = None,
        configured: Iterable[User] = (),
    ):
        """`configured`: CASEWORK_USERS, people too (no addresses: inbox only) where the directory does not list them."""
        self._configured = {user.name: user for user in configured}
        self._engine = read_model.engine
        self._insert = read_model.insert
        self._policy = policy or NotificationPolicy()
        self._console_url = console_url.rstrip("/")
        self._wording = wording

    # -- preferences --------------------------------------------------------------------------
    async def turned_off(self, user_name: str) -> set[str]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(notification_preferences.c.kind).where(notification_preferences.c.user_name == user_name))
            return {row.kind for row in rows}

    async def set_turned_off(self, user_name: str, kinds: Iterable[str]) -> set[str]:
        off = {MessageKind(kind).value for kind in kinds}
        async with self._engine.begin() as connection:
            await connection.execute(delete(notification_preferences).where(notification_preferences.c.user_name == user_name))
            if off:
                await connection.execute(insert(notification_preferences), [{"user_name": user_name, "kind": kind} for kind in sorted(off)])
        return off

    # -- inbox --------------------------------------------------------------------------------
    async def inbox(self, user_name: str, limit: int = 50, offset: int = 0) -> list[InboxItem]:
        """Unread first, then newest."""
        query = (
            select(inbox_messages)
            .where(inbox_messages.c.user_name == user_name)
            .order_by(inbox_messages.c.read_at.is_not(None), inbox_messages.c.id.desc())
            .limit(min(limit, MAX_PAGE))
            .offset(offset)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_inbox_item(row) for row in rows]

    async def unread(self, user_name: str) -> int:
        query = select(func.count()).select_from(inbox_messages).where(inbox_messages.c.user_name == user_name, inbox_messages.c.read_at.is_(None))
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar() or 0)

    async def mark_read(self, user_name: str, item_id: int) -> bool:
        """False when the message is not this user's (or not there): the caller says 404."""
        async with self._engine.begin() as connection:
            mine = and_(inbox_messages.c.id == item_id, inbox_messages.c.user_name == user_name)
            found = (await connection.execute(select(inbox_messages.c.read_at).where(mine))).first()
            if found is None:
                return False
            if found.read_at is None:
                await connection.execute(update(inbox_messages).where(mine).values(read_at=datetime.now(UTC)))
        return True

    async def inbox_item(self, user_name: str, item_id: int) -> InboxItem | None:
        """One of this user's own messages; None when it is someone else's (or not there)."""
        query = select(inbox_messages).where(inbox_messages.c.id == item_id, inbox_messages.c.user_name == user_name)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else _inbox_item(row)

    @property
    def policy(self) -> NotificationPolicy:
        return self._policy

    async def addresses(self, user_name: str) -> dict[str, str | None]:
        """One's own addresses on the channels, as the directory has them (read-only in the console)."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(users).where(users.c.name == user_name))).mappings().first()
        keys = {ChannelType.EMAIL: "email", ChannelType.WECOM: "wecom_id", ChannelType.DINGTALK: "dingtalk_id", ChannelType.FEISHU: "feishu_id"}
        return {channel.value: (row.get(key) if row is not None else None) for channel, key in keys.items()}

    # -- the delivery log ---------------------------------------------------------------------
    async def attempts(
        self, case_id: str | None = None, channel: str | None = None, status: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[Attempt]:
        """Newest first; `before`: an attempt's id, for the next page."""
        conditions = []
        if case_id:
            conditions.append(message_deliveries.c.case_id == case_id)
        if channel:
            conditions.append(message_deliveries.c.channel == channel)
        if status:
            conditions.append(message_deliveries.c.status == status)
        if before is not None:
            conditions.append(message_deliveries.c.id < before)
        query = select(message_deliveries).where(*conditions).order_by(message_deliveries.c.id.desc()).limit(min(limit, MAX_PAGE))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [Attempt(**{**row, "at": as_utc(row["at"]), "recipients": list(row["recipients"] or [])}) for row in rows]

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None:
        message = delivery.message
        row = {"message_id": message.id, "kind": str(message.kind), "case_id": message.case_id, "channel": delivery.channel,
               "language": message.language, "recipients": [r.name for r in delivery.recipients], "attempt": attempt,
               "status": DeliveryStatus(status).value, "status_code": status_code, "error": error, "at": datetime.now(UTC)}  # fmt: skip
        async with self._engine.begin() as connection:
            await connection.execute(self._insert(message_deliveries).values(row).on_conflict_do_nothing())

    # -- the worker's office ------------------------------------------------------------------
    async def channel(self, name: str) -> Channel | None:
        return self._policy.channel(name)

    async def prepare(self, request: AnnounceInput) -> list[ChannelDelivery]:
        """The inbox of everyone who hears of it (per person, in their language); email per language;
        ONE message per robot or webhook (the department's language, everyone @-mentioned: a webhook's
        `webhook-id` is the message id, so a second delivery of it would be dropped as a repeat); and
        the legacy webhook (CASEWORK_WEBHOOK_URL) gets every event the old notifications did (timers,
        assignments, escalations), whoever hears of it."""
        kind = MessageKind(request.kind)
        everyone = await self.recipients(kind, request)
        recipients = [person for person in everyone if kind.value not in await self.turned_off(person.name)]
        legacy = self._policy.legacy_webhook()
        if not everyone and legacy is None:
            return []
        request = await self._with_case(request)
        deliveries = []
        if everyone:
            deliveries = await self._to_people(request, kind, everyone, recipients)
        if legacy is not None:
            event = await self._event(request)
            # What the old notifications posted (timers, assign, escalate), no more: a report's data
            # (a customer's words) never went there.
            if event is not None and request.case_kind and notifies(request.case_kind, event["action"]):
                deliveries.append(ChannelDelivery(legacy.name, await self._legacy_message(request, kind, event), recipients))
        return deliveries

    async def _to_people(
        self, request: AnnounceInput, kind: MessageKind, everyone: list[Recipient], recipients: list[Recipient]
    ) -> list[ChannelDelivery]:
        messages = {language: self.compose(request, kind, language) for language in dict.fromkeys(r.language for r in everyone)}
        await self._write_inbox(messages, recipients)
        # The inbox is a channel too, in the log: who got it there, and who turned this kind off.
        for language, message in messages.items():
            told = [r for r in recipients if r.language == language]
            quiet = [r for r in everyone if r.language == language and r not in recipients]
            if told:
                await self.record_attempt(ChannelDelivery(ChannelType.INBOX, message, told), 1, DeliveryStatus.DELIVERED, None, None)
            if quiet:
                await self.record_attempt(
                    ChannelDelivery(ChannelType.INBOX, message, quiet), 0, DeliveryStatus.SKIPPED, None, coded(TURNED_OFF, "turned off")
                )
        if not recipients:
            return []
        deliveries = []
        for config in self._policy.channels_for(kind):
            if config.legacy:  # sent every case event, apart (prepare)
                continue
            if config.type in ROBOT_TYPES:
                robots = self.compose_for_robots(request, kind, await self._priority(request.case_id))
                deliveries.append(ChannelDelivery(config.name, _for(robots, recipients), recipients))
            elif config.type in GROUP_TYPES:
                deliveries.append(ChannelDelivery(config.name, _for(self.compose(request, kind, DEFAULT_LANGUAGE), recipients), recipients))
            else:
                for language, message in messages.items():
                    addressed = [r for r in recipients if r.language == language and r.email]
                    if addressed:
                        deliveries.append(ChannelDelivery(config.name, _for(message, addressed), addressed))
        return deliveries

    async def _event(self, request: AnnounceInput) -> dict | None:
        """The case event behind a message ("<case id>:<seq>"), as the read model has it (the
        announcement runs once the event is written there); None for a message of no case event."""
        case_id, _, seq = request.message_id.rpartition(":")
        if not request.case_id or case_id != request.case_id or not seq.isdigit():
            return None
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(events).where(events.c.case_id == case_id, events.c.seq == int(seq)))).mappings().first()
        return None if row is None else event_from_row(row)

    async def _legacy_message(self, request: AnnounceInput, kind: MessageKind, event: dict) -> Message:
        """The old notifications' body (`delivery`, `event`, `case` with its priority) and the new
        `message`; workflows/channels/webhook.py sends the old headers from `delivery` and `event`."""
        message = self.compose(request, kind, DEFAULT_LANGUAGE)
        case = {
            "id": request.case_id,
            "title": mask_contacts(request.title),
            "kind": request.case_kind,
            "priority": await self._priority(request.case_id),
        }
        return dataclasses.replace(message, data={"delivery": request.message_id, "event": event, "case": case})

    async def _priority(self, case_id: str | None) -> str | None:
        if not case_id:
            return None
        async with self._engine.connect() as connection:
            return (await connection.execute(select(cases.c.priority).where(cases.c.id == case_id))).scalar()

    async def announce(self, client: Client, request: AnnounceInput, task_queue: str) -> None:
        """What the worker's `announce` activity does, for events outside a workflow (an assessment finalised)."""
        await start_delivery(client, request.message_id, await self.prepare(request), task_queue)

    async def _with_case(self, request: AnnounceInput) -> AnnounceInput:
        """A message about a case that did not say its title and kind (a quality check's) takes them from the read model."""
        if request.title or not request.case_id:
            return request
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(cases.c.kind, cases.c.snapshot).where(cases.c.id == request.case_id))).first()
        if row is None:
            return request
        return dataclasses.replace(request, title=str(row.snapshot.get("title", "")), case_kind=row.kind)

    async def recipients(self, kind: MessageKind, request: AnnounceInput) -> list[Recipient]:
        audiences = self._policy.audiences(kind)
        subject = Subject(
            request.owner,
            request.team,
            {"participants": request.people},
            request.action_item_owner,
            request.agent,
            tuple(request.named),
            request.actor,
        )
        names = named_people(audiences, subject)
        async with self._engine.connect() as connection:
            if Audience.TEAM_SUPERVISORS in audiences:
                leads = await _team_supervisors(connection, request.team)
                names += leads or await _people_of(connection, (Role.MANAGER,)) + self._configured_of((Role.MANAGER,))
            if Audience.SUPERVISORS in audiences:
                names += await _people_of(connection, SUPERVISING_ROLES) + self._configured_of(SUPERVISING_ROLES)
            wanted = not_the_actor(names, request.actor)
            rows = (await connection.execute(select(users).where(users.c.name.in_(wanted)))).mappings().all()
        found = {row["name"]: row for row in rows}
        people = []
        for name in wanted:
            if name in found:
                if not found[name]["disabled"]:
                    people.append(_recipient(found[name]))
            elif name in self._configured:
                people.append(Recipient(name, name, DEFAULT_LANGUAGE))
        return people

    def _configured_of(self, roles: Iterable[str]) -> list[str]:
        wanted = {str(role) for role in roles}
        return sorted(name for name, user in self._configured.items() if user.role in wanted)

    def compose(self, request: AnnounceInput, kind: MessageKind, language: str) -> Message:
        """For the inbox, email and a webhook (the department's own systems): the title, contacts masked."""
        word = self._wording or (lambda _language, _context, term: term)
        link = self._link(request)
        title = mask_contacts(request.title)
        values = {
            "message": word(language, "message_kind", kind.value),
            "kind": word(language, "kind", request.case_kind) if request.case_kind else "",
            "title": title,
            "url": link or "",
        }
        subject = word(language, MESSAGE_CONTEXT, "subject").format(**values)
        text = word(language, MESSAGE_CONTEXT, "text" if link else "text_without_link").format(**values)
        data = {"kind": kind.value, "case": {"id": request.case_id, "kind": request.case_kind, "title": title}}
        return Message(request.message_id, kind, language, subject, text, link, request.case_id, data)

    def compose_for_robots(self, request: AnnounceInput, kind: MessageKind, priority: str | None = None) -> Message:
        """For a group chat (a third party's servers, and everyone in the group reads it): no title at
        all (an incident's title quotes the complaint's, a customer's name in it); the kind of
        message, the case's kind and id, and the console link. In the department's language."""
        word = self._wording or (lambda _language, _context, term: term)
        link = self._link(request)
        values = {
            "message": word(DEFAULT_LANGUAGE, "message_kind", kind.value),
            "kind": word(DEFAULT_LANGUAGE, "kind", request.case_kind) if request.case_kind else "",
            "case_id": request.case_id or "",
            "priority": word(DEFAULT_LANGUAGE, "priority", priority) if priority else "",
            "url": link or "",
        }
        subject = word(DEFAULT_LANGUAGE, MESSAGE_CONTEXT, "robot_subject").format(**values)
        text = word(DEFAULT_LANGUAGE, MESSAGE_CONTEXT, "robot_text" if link else "robot_text_without_link").format(**values)
        data = {"kind": kind.value, "case": {"id": request.case_id, "kind": request.case_kind, "priority": priority}}
        return Message(request.message_id, kind, DEFAULT_LANGUAGE, subject, text, link, request.case_id, data)

    def _link(self, request: AnnounceInput) -> str | None:
        return f"{self._console_url}/ui/cases/{request.case_id}" if request.case_id else None

    async def _write_inbox(self, messages: dict[str, Message], recipients: list[Recipient]) -> None:
        now = datetime.now(UTC)
        rows = [
            {"message_id": messages[r.language].id, "user_name": r.name, "kind": str(messages[r.language].kind), "case_id": messages[r.language].case_id,
             "subject": messages[r.language].subject, "text": messages[r.language].text, "url": messages[r.language].link, "created_at": now, "read_at": None}
            for r in recipients
        ]  # fmt: skip
        async with self._engine.begin() as connection:
            for row in rows:
                await connection.execute(self._insert(inbox_messages).values(row).on_conflict_do_nothing())


def _for(message: Message, recipients: list[Recipient]) -> Message:
    """The message with whom it is for in its data (a webhook's body carries it: user names, no addresses)."""
    return dataclasses.replace(message, data={**message.data, "recipients": [r.name for r in recipients]})


def mask_contacts(text: str) -> str:
    """A title with any phone number or email address in it masked (138****5678, z***@example.com)."""
    text = _EMAIL.sub(lambda match: f"{match.group(1)}***@{match.group(2)}", text)
    return _PHONE.sub(lambda match: match.group(0)[:3] + "****" + match.group(2), text)


async def _team_supervisors(connection, team: str | None) -> list[str]:
    names: list[str] = []
    if team:
        rows = await connection.execute(select(team_members.c.user_name).where(team_members.c.team == team, team_members.c.supervises.is_(True)))
        names = sorted(row.user_name for row in rows)
    return names


async def _people_of(connection, roles: Iterable[str]) -> list[str]:
    rows = await connection.execute(select(users.c.name).where(users.c.role.in_([str(role) for role in roles]), users.c.disabled.is_(False)))
    return sorted(row.name for row in rows)


def _recipient(row) -> Recipient:
    return Recipient(
        row["name"],
        row["display_name"],
        row["language"] or DEFAULT_LANGUAGE,
        row.get("email"),
        row.get("wecom_id"),
        row.get("dingtalk_id"),
        row.get("feishu_id"),
    )


def _inbox_item(row) -> InboxItem:
    return InboxItem(row["id"], row["message_id"], row["kind"], row["case_id"], row["subject"], row["text"], row["url"],
                     as_utc(row["created_at"]), as_utc(row["read_at"]) if row["read_at"] else None)  # fmt: skip
