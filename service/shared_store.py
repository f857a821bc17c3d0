"""What every API replica must see alike: console sessions and expiring counters (the request rate
limit, failed sign-ins). Held in the read-model database by default, or in Redis when
CASEWORK_REDIS_URL is set. Both keep each change atomic, so replicas never lose a count."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.read_model import ReadModel
from service.tables import counters, sessions
from states.case import as_utc

log = logging.getLogger("casework.shared_store")


@dataclass(frozen=True)
class Count:
    count: int
    resets_in: float  # seconds until the count starts again from zero


@dataclass(frozen=True)
class SessionRecord:
    id_hash: str
    user_name: str
    client_address: str
    created_at: datetime
    last_seen: datetime
    expires_at: datetime


class SharedStore(Protocol):
    async def hit(self, key: str, window: float, amount: int = 1) -> Count:
        """Add `amount` to `key`'s count; a count starts at the first hit and lasts `window` seconds."""

    async def peek(self, key: str) -> Count: ...

    async def reset(self, key: str) -> None: ...

    async def save_session(self, record: SessionRecord) -> None: ...

    async def load_session(self, id_hash: str) -> SessionRecord | None: ...

    async def touch_session(self, id_hash: str, last_seen: datetime) -> None: ...

    async def drop_session(self, id_hash: str) -> None: ...

    async def forget_expired(self) -> int: ...

    async def close(self) -> None: ...


class DatabaseStore:
    def __init__(self, read_model: ReadModel):
        self._engine: AsyncEngine = read_model.engine
        self._insert = read_model.insert

    async def hit(self, key: str, window: float, amount: int = 1) -> Count:
        now = time.time()
        expired = counters.c.expires_at <= now
        statement = (
            self._insert(counters)
            .values(key=key, count=amount, expires_at=now + window)
            .on_conflict_do_update(
                index_elements=[counters.c.key],
                # Both right-hand sides read the row as it was before this update.
                set_={
                    "count": case((expired, amount), else_=counters.c.count + amount),
                    "expires_at": case((expired, now + window), else_=counters.c.expires_at),
                },
            )
            .returning(counters.c.count, counters.c.expires_at)
        )
        async with self._engine.begin() as connection:
            count, expires_at = (await connection.execute(statement)).one()
        return Count(count, max(expires_at - now, 0.0))

    async def peek(self, key: str) -> Count:
        now = time.time()
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(counters.c.count, counters.c.expires_at).where(counters.c.key == key, counters.c.expires_at > now))
            ).first()
        if row is None:
            return Count(0, 0.0)
        count, expires_at = row
        return Count(count, expires_at - now)

    async def reset(self, key: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(counters).where(counters.c.key == key))

    async def save_session(self, record: SessionRecord) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(sessions.insert().values(asdict(record)))

    async def load_session(self, id_hash: str) -> SessionRecord | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(sessions).where(sessions.c.id_hash == id_hash))).mappings().first()
        if row is None:
            return None
        record = SessionRecord(**{**row, **{name: as_utc(row[name]) for name in ("created_at", "last_seen", "expires_at")}})
        return record if record.expires_at > datetime.now(UTC) else None

    async def touch_session(self, id_hash: str, last_seen: datetime) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen=last_seen))

    async def drop_session(self, id_hash: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(sessions).where(sessions.c.id_hash == id_hash))

    async def forget_expired(self) -> int:
        async with self._engine.begin() as connection:
            gone = (await connection.execute(delete(counters).where(counters.c.expires_at <= time.time()))).rowcount
            gone += (await connection.execute(delete(sessions).where(sessions.c.expires_at <= datetime.now(UTC)))).rowcount
        return gone

    async def close(self) -> None:
        pass  # the engine is the read model's


class RedisStore:
    """Keys under `casework:`; each expires by itself, so there is nothing to forget."""

    def __init__(self, url: str):
        from redis.asyncio import Redis  # only needed when configured

        self._redis = Redis.from_url(url)

    async def hit(self, key: str, window: float, amount: int = 1) -> Count:
        name = f"casework:count:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(name, amount)
            pipe.pexpire(name, int(window * 1000), nx=True)
            pipe.pttl(name)
            count, _, ttl = await pipe.execute()
        return Count(int(count), max(ttl, 0) / 1000)

    async def peek(self, key: str) -> Count:
        name = f"casework:count:{key}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.pttl(name)
            count, ttl = await pipe.execute()
        return Count(int(count), max(ttl, 0) / 1000) if count is not None else Count(0, 0.0)

    async def reset(self, key: str) -> None:
        await self._redis.delete(f"casework:count:{key}")

    async def save_session(self, record: SessionRecord) -> None:
        await self._redis.set(_session_key(record.id_hash), _session_json(record), pxat=_epoch_ms(record.expires_at))

    async def load_session(self, id_hash: str) -> SessionRecord | None:
        raw = await self._redis.get(_session_key(id_hash))
        if raw is None:
            return None
        data = json.loads(raw)
        return SessionRecord(**{**data, **{name: datetime.fromisoformat(data[name]) for name in ("created_at", "last_seen", "expires_at")}})

    async def touch_session(self, id_hash: str, last_seen: datetime) -> None:
        record = await self.load_session(id_hash)
        if record is not None:  # xx: never brings back a session dropped meanwhile
            touched = SessionRecord(**{**asdict(record), "last_seen": last_seen})
            await self._redis.set(_session_key(id_hash), _session_json(touched), pxat=_epoch_ms(record.expires_at), xx=True)

    async def drop_session(self, id_hash: str) -> None:
        await self._redis.delete(_session_key(id_hash))

    async def forget_expired(self) -> int:
        return 0

    async def close(self) -> None:
        await self._redis.aclose()


def _session_key(id_hash: str) -> str:
    return f"casework:session:{id_hash}"


def _session_json(record: SessionRecord) -> str:
    return json.dumps({**asdict(record), **{name: getattr(record, name).isoformat() for name in ("created_at", "last_seen", "expires_at")}})


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def open_shared_store(redis_url: str | None, read_model: ReadModel) -> SharedStore:
    return RedisStore(redis_url) if redis_url else DatabaseStore(read_model)


async def keep_tidy(store: SharedStore, every: timedelta = timedelta(minutes=10)) -> None:
    """Delete expired counters and sessions now and then every `every`, until cancelled."""
    while True:
        try:
            await store.forget_expired()
        except Exception as error:  # the store down: try again next time
            log.warning("could not forget expired sessions and counters: %s", error)
        await asyncio.sleep(every.total_seconds())
