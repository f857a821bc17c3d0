"""Idempotency keys: a retried request gets the first response, and its change happens once.

A key is scoped to the user who sends it. Before the work starts, the key is claimed with a
fingerprint of the request (and, for a new case, the case id it will get); the response is stored
when the work is done. A retry finds the stored response; one that finds the claim without a
response (the first attempt died mid-way) repeats the work with the same Temporal update id, which
Temporal de-duplicates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select, update

from service.read_model import ReadModel, idempotency_keys

MAX_KEY_LENGTH = 200


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
        row = {"key_hash": key_hash, "request_hash": request_hash, "case_id": case_id, "created_at": datetime.now(timezone.utc)}
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
