"""Passwords: argon2id (argon2-cffi's RFC 9106 defaults), hashed and checked off the event loop,
because one hash takes tens of milliseconds of CPU and 64 MiB of memory by design."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _unknown_user_hash() -> str:
    """Checked against when the name is unknown, so a wrong name takes as long as a wrong password."""
    return _hasher.hash("no user has this password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; with no hash, as slow a no."""
    return await asyncio.to_thread(_matches, password_hash, password)


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _unknown_user_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
