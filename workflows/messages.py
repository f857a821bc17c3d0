"""Messages to people, durably: `announce` (an activity) decides who hears of an event, writes their
inbox and starts one `MessageDelivery` workflow per message (workflow id = message id, so a retried
announcement starts it once); that workflow delivers over each channel as its own activity, retried
without end with a capped backoff: a channel that is down delays a message, never loses it, and
never holds up the case that caused it (the case does not wait for channels).

What is said and to whom is the service's business (service/notifications.py, behind `MessageOffice`);
the channels only transport (workflows/channels/).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from states.vocabulary import ChannelType, DeliveryStatus
    from workflows import channels
    from workflows.channels import Channel, DeliveryFailed, Message, Recipient
    from workflows.channels.base import CHANNEL_REMOVED, MALFORMED_MESSAGE, RECIPIENT_REFUSED, TRANSPORT_ERROR

log = logging.getLogger("casework.messages")
ERROR_LENGTH = 300  # the delivery log's error column

MESSAGE_DELIVERY_WORKFLOW = "MessageDelivery"
# Unlimited attempts (maximum_attempts 0), at most ten minutes apart.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10), maximum_attempts=0
)
ANNOUNCE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30))


def start_in_background(pending: set[asyncio.Future], method: Any, arg: Any, retry_policy: RetryPolicy) -> None:
    """From workflow code: start an activity (an announcement, a notification) without waiting for it;
    it stays in `pending` until done, so the run can wait for it before it ends."""
    started = workflow.start_activity_method(method, arg, start_to_close_timeout=timedelta(seconds=30), retry_policy=retry_policy)
    pending.add(started)
    started.add_done_callback(pending.discard)


@dataclass
class AnnounceInput:
    """One event's message: what it is about, for the rules' audiences."""

    message_id: str  # "<case id>:<seq>" for a case's event; stable across retries
    kind: str  # MessageKind
    case_id: str | None = None
    case_kind: str | None = None
    title: str = ""
    owner: str | None = None
    team: str | None = None
    people: list[str] = field(default_factory=list)  # a meeting's host, recorder, participants
    action_item_owner: str | None = None
    agent: str | None = None
    actor: str | None = None  # who took the action: never told of it
    named: list[str] = field(default_factory=list)  # the people the event itself names (Audience.NAMED)
    task_queue: str | None = None  # where the delivery workflow runs; None: the announcer's own


@dataclass
class ChannelDelivery:
    """One channel's share of a message, in one language, for its recipients."""

    channel: str
    message: Message
    recipients: list[Recipient]


@dataclass
class MessageDeliveryInput:
    message_id: str
    deliveries: list[ChannelDelivery]


@dataclass
class DeliverInput:
    delivery: ChannelDelivery


class MessageOffice(Protocol):
    async def prepare(self, request: AnnounceInput) -> list[ChannelDelivery]:
        """Write the inbox of everyone who hears of it (once per person), and say what goes out on which channel."""
        ...

    async def channel(self, name: str) -> Channel | None: ...

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None: ...


class NoOffice:
    """Where no one is told anything (a worker built without a directory, in some tests): logged only."""

    async def prepare(self, request: AnnounceInput) -> list[ChannelDelivery]:
        log.info("message %s (%s) on case %s: no office to announce it", request.message_id, request.kind, request.case_id)
        return []

    async def channel(self, name: str) -> Channel | None:
        return None

    async def record_attempt(self, delivery: ChannelDelivery, attempt: int, status: str, status_code: int | None, error: str | None) -> None:
        return None


class MessageActivities:
    def __init__(self, office: MessageOffice, task_queue: str):
        self._office = office
        self._task_queue = task_queue

    @activity.defn(name="announce")
    async def announce(self, request: AnnounceInput) -> None:
        deliveries = await self._office.prepare(request)
        await start_delivery(activity.client(), request.message_id, deliveries, request.task_queue or self._task_queue)

    @activity.defn(name="deliver_message")
    async def deliver_message(self, input: DeliverInput) -> int | None:
        delivery, attempt = input.delivery, activity.info().attempt
        channel = await self._office.channel(delivery.channel)
        if channel is None:  # taken out of the policy since: said in the log, not retried
            await self._office.record_attempt(delivery, attempt, DeliveryStatus.SKIPPED, None, coded(CHANNEL_REMOVED, "no longer configured"))
            return None
        if channel.type == ChannelType.EMAIL:
            return await self._deliver_each(channel, delivery, attempt)
        try:
            status_code = await channels.deliver(channel, delivery.message, delivery.recipients)
        except Exception as error:
            raise await self._failed(delivery, delivery.recipients, attempt, error) from None
        await self._office.record_attempt(delivery, attempt, DeliveryStatus.DELIVERED, status_code, None)
        return status_code

    async def _deliver_each(self, channel: Channel, delivery: ChannelDelivery, attempt: int) -> int | None:
        """Email, one recipient at a time: who was sent is in the activity's heartbeat details, so a
        retry (after a failure or a timeout) sends only to the others; an address refused for good
        is logged as failed for that recipient and the others still get theirs."""
        done = _heartbeat_names(activity.info().heartbeat_details)
        sent: list[Recipient] = []
        refused: list[tuple[Recipient, DeliveryFailed]] = []
        status_code: int | None = None
        for recipient in delivery.recipients:
            if recipient.name in done:
                continue
            try:
                status_code = await channels.deliver(channel, delivery.message, [recipient]) or status_code
            except DeliveryFailed as failure:
                if failure.code != RECIPIENT_REFUSED:
                    if sent:
                        await self._office.record_attempt(_to(delivery, sent), attempt, DeliveryStatus.DELIVERED, status_code, None)
                    rest = [r for r in delivery.recipients if r.name not in done]
                    raise await self._failed(delivery, rest, attempt, failure) from None
                refused.append((recipient, failure))
            except Exception as error:
                raise await self._failed(delivery, [recipient], attempt, error) from None
            else:
                sent.append(recipient)
            done.add(recipient.name)
            activity.heartbeat(sorted(done))
        if refused:
            reason = "; ".join(f"{r.name}: {failure.reason}" for r, failure in refused)
            await self._office.record_attempt(
                _to(delivery, [r for r, _ in refused]), attempt, DeliveryStatus.FAILED, refused[-1][1].status_code, coded(RECIPIENT_REFUSED, reason)
            )
        if sent or not refused:
            await self._office.record_attempt(_to(delivery, sent) if sent else delivery, attempt, DeliveryStatus.DELIVERED, status_code, None)
        return status_code

    async def _failed(self, delivery: ChannelDelivery, recipients: list[Recipient], attempt: int, error: Exception) -> ApplicationError:
        """Log the failed attempt with its code and say whether to try again: every failure is
        retried, except a message that can never be formed (a programming or format error)."""
        if isinstance(error, DeliveryFailed):
            code, reason, status_code, retryable = error.code, error.reason, error.status_code, error.retryable
        elif isinstance(error, (ValueError, TypeError, KeyError, AttributeError)):
            code, reason, status_code, retryable = MALFORMED_MESSAGE, f"{type(error).__name__}: {error}", None, False
        else:  # a transport's bug or an unreachable host: tried again
            code, reason, status_code, retryable = TRANSPORT_ERROR, f"{type(error).__name__}: {error}", None, True
        log.warning("message %s on %s: %s (%s)", delivery.message.id, delivery.channel, code, "retried" if retryable else "final")
        await self._office.record_attempt(_to(delivery, recipients), attempt, DeliveryStatus.FAILED, status_code, coded(code, reason))
        return ApplicationError(f"{delivery.channel}: {code}: {reason}", type=code, non_retryable=not retryable)


def coded(code: str, detail: str) -> str:
    """What the delivery log's `error` holds: the machine code (the console labels it), then the detail."""
    return f"{code}: {detail}"[:ERROR_LENGTH]


def _to(delivery: ChannelDelivery, recipients: list[Recipient]) -> ChannelDelivery:
    return ChannelDelivery(delivery.channel, delivery.message, list(recipients))


def _heartbeat_names(details: Any) -> set[str]:
    """The recipients an earlier attempt sent to: its last heartbeat's list of names."""
    if details and isinstance(details[0], list):
        return {name for name in details[0] if isinstance(name, str)}
    return set()


async def start_delivery(client: Client, message_id: str, deliveries: list[ChannelDelivery], task_queue: str) -> None:
    """Start the message's delivery workflow, once: a retried announcement finds it started (or done)."""
    if not deliveries:
        return
    try:
        await client.start_workflow(
            MessageDelivery.run,
            MessageDeliveryInput(message_id, deliveries),
            id=f"message-{message_id}",
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass


@workflow.defn(name=MESSAGE_DELIVERY_WORKFLOW)
class MessageDelivery:
    @workflow.run
    async def run(self, input: MessageDeliveryInput) -> dict[str, Any]:
        results = await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    MessageActivities.deliver_message,
                    DeliverInput(delivery),
                    # Email to many people takes long: it heartbeats who was sent after each one, so a
                    # worker lost mid-way is noticed within a minute and the retry skips them.
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(seconds=60),
                    retry_policy=DELIVERY_RETRY,
                )
                for delivery in input.deliveries
            ),
            return_exceptions=True,
        )
        # A delivery given up (refused for good) ends here; the log has its attempts.
        return {f"{d.channel}/{d.message.language}": not isinstance(r, BaseException) for d, r in zip(input.deliveries, results, strict=True)}
