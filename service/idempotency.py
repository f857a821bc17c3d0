"""Idempotency keys: a retried request gets the first response, and its change happens once.

A key is scoped to the user who sends it. Before the work starts, the key is claimed with a
fingerprint of the request (and, for a new case, the case id it will get); the response is stored
when the work is done. A retry finds the stored response; one that finds the claim without a
response (the first attempt died mid-way) repeats the work with the same Temporal update id, which
Temporal de-duplicates.

Keys are kept for RETENTION (a week): the API forgets older ones every hour, so the table stays as
large as a week of changes. A retry later than that is a new request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from service.read_model import ReadModel
from service.tables import idempotency_keys

log = logging.getLogger("casework.idempotency")

MAX_KEY_LENGTH = 200
RETENTION = timedelta(days=7)


class KeyReused(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True)
class Claim:
    key_hash: str
    case_id: str
    status: int | None
    response: bytes | None
    etag: str | None

    @property
    def update_id(self) -> str:
        # Also the events' request_id (64 characters at most); 192 bits of the hash stay unique.
        return f"idem-{self.key_hash[:48]}"


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


class IdempotencyKeys:
    def __init__(self, read_model: ReadModel):
        self._engine = read_model.engine
        self._insert = read_model.insert

    async def claim(self, user: str, key: str, request_hash: str, case_id: str) -> Claim:
        key_hash = fingerprint(user, key)
        row = {"key_hash": key_hash, "request_hash": request_hash, "case_id": case_id, "created_at": datetime.now(UTC)}
        async with self._engine.begin() as connection:
            await connection.execute(self._insert(idempotency_keys).values(row).on_conflict_do_nothing())
            stored = (await connection.execute(select(idempotency_keys).where(idempotency_keys.c.key_hash == key_hash))).mappings().one()
        if stored["request_hash"] != request_hash:
            raise KeyReused()
        return Claim(key_hash, stored["case_id"], stored["status"], stored["response"], stored["etag"])

    async def complete(self, claim: Claim, status: int, response: bytes, etag: str | None) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.key_hash == claim.key_hash, idempotency_keys.c.status.is_(None))
                .values(status=status, response=response, etag=etag)
            )

    async def forget_before(self, cutoff: datetime) -> int:
        """Drop the keys claimed before `cutoff`; how many there were."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))
        return result.rowcount


async def keep_forgetting(keys: IdempotencyKeys, every: timedelta = timedelta(hours=1)) -> None:
    """Forget keys older than RETENTION now and then every `every`, until cancelled."""
    while True:
        try:
            forgotten = await keys.forget_before(datetime.now(UTC) - RETENTION)
            if forgotten:
                log.info("forgot %d idempotency keys older than %s", forgotten, RETENTION)
        except Exception as error:  # the read model down: try again next time
            log.warning("could not forget old idempotency keys: %s", error)
        await asyncio.sleep(every.total_seconds())
