"""Signing in to the console: server-side sessions, and throttling of failed sign-ins.

A session id is a random token the browser holds; the store keeps only its hash. A session ends
after `idle` without a request, after `lifetime` whatever happens, on sign-out, and at once when
its user is disabled (checked on every request, not cached).

Failed sign-ins are counted per name and per client address over a window that starts with the
first failure: from `slow_after` failures on, each attempt is answered later; after `refuse_after`,
attempts are refused until the window ends.
An address gets more room than a name, as a whole call centre may sit behind one address.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from service.directory import Directory, Person
from service.shared_store import SessionRecord, SharedStore

log = logging.getLogger("casework.sign_in")

WRONG_NAME_OR_PASSWORD = "wrong name or password"
# last_seen is written at most this often, so a busy page does not write on every request.
TOUCH_PRECISION = timedelta(seconds=30)


class SignInFailed(Exception):
    """One message for a wrong name and a wrong password, so neither is revealed."""

    def __init__(self) -> None:
        super().__init__(WRONG_NAME_OR_PASSWORD)


class SignInRefused(Exception):
    """Too many failed sign-ins for this name or from this address; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(int(retry_after + 0.999), 1)
        super().__init__(f"too many failed sign-ins; try again in {self.retry_after} seconds")


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=90)
    lifetime: timedelta = timedelta(hours=10)  # a 9-hour shift and its breaks


@dataclass(frozen=True)
class Limits:
    slow_after: int
    refuse_after: int


@dataclass(frozen=True)
class Throttle:
    window: timedelta = timedelta(minutes=15)
    per_name: Limits = Limits(slow_after=3, refuse_after=10)
    per_address: Limits = Limits(slow_after=20, refuse_after=100)
    delay_step: float = 1.0  # seconds more per failure past slow_after
    max_delay: float = 5.0


@dataclass(frozen=True)
class Session:
    id: str  # the token for the browser's cookie; not stored
    user: Person
    created_at: datetime
    last_seen: datetime


class SignIn:
    def __init__(
        self, directory: Directory, store: SharedStore, policy: SessionPolicy = SessionPolicy(), throttle: Throttle = Throttle(), sleep=asyncio.sleep
    ):
        self._directory = directory
        self._store = store
        self._policy = policy
        self._throttle = throttle
        self._sleep = sleep

    async def sign_in(self, name: str, password: str, client_address: str) -> Session:
        window = self._throttle.window.total_seconds()
        # The name as typed may be anything (long, odd characters): its hash makes a key any store holds.
        name_key, address_key = f"sign-in:name:{_hash(name)}", f"sign-in:address:{client_address}"
        # Every attempt on a name counts before its password is checked, so parallel guesses cannot
        # slip past the limit; a success starts the name afresh. An address counts failures only.
        by_name = await self._store.hit(name_key, window)
        by_address = await self._store.peek(address_key)
        if by_name.count > self._throttle.per_name.refuse_after or by_address.count >= self._throttle.per_address.refuse_after:
            log.warning("sign-in refused for %r from %s: too many failures", name, client_address)
            raise SignInRefused(max(by_name.resets_in, by_address.resets_in))
        await self._sleep(self._delay(by_name.count - 1, by_address.count))
        person = await self._directory.check_password(name, password)
        if person is None:
            await self._store.hit(address_key, window)
            log.warning("sign-in failed for %r from %s", name, client_address)
            raise SignInFailed()
        await self._store.reset(name_key)
        now = datetime.now(UTC)
        session_id = secrets.token_urlsafe(32)
        await self._store.save_session(SessionRecord(_hash(session_id), person.name, client_address, now, now, now + self._policy.lifetime))
        log.info("user %s signed in from %s", person.name, client_address)
        return Session(session_id, person, now, now)

    def _delay(self, name_failures: int, address_failures: int) -> float:
        """Once failures reach `slow_after`, each attempt waits a step longer than the one before."""
        over = max(name_failures - self._throttle.per_name.slow_after + 1, address_failures - self._throttle.per_address.slow_after + 1, 0)
        return min(over * self._throttle.delay_step, self._throttle.max_delay)

    async def session_user(self, session_id: str) -> Session | None:
        """The session's enabled user, or None when it ended (expired, idle, signed out, user disabled)."""
        id_hash = _hash(session_id)
        record = await self._store.load_session(id_hash)
        if record is None:
            return None
        now = datetime.now(UTC)
        if now >= record.expires_at or now - record.last_seen >= self._policy.idle:
            await self._store.drop_session(id_hash)
            return None
        person = await self._directory.enabled_person(record.user_name)
        if person is None:
            await self._store.drop_session(id_hash)
            return None
        if now - record.last_seen >= TOUCH_PRECISION:
            await self._store.touch_session(id_hash, now)
        return Session(session_id, person, record.created_at, now)

    async def sign_out(self, session_id: str) -> None:
        id_hash = _hash(session_id)
        record = await self._store.load_session(id_hash)
        await self._store.drop_session(id_hash)
        if record is not None:
            log.info("user %s signed out", record.user_name)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
