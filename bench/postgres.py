"""A PostgreSQL database of the bench's own, dropped and created anew for each run."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url


async def fresh_database(url: str) -> str:
    """Drop and create the database named by `url` (connecting to `postgres` to do it); return `url`."""
    target = make_url(url)
    if not target.database or target.database in ("postgres", "template0", "template1"):
        raise ValueError(f"refusing to drop {target.database!r}: name a database of the bench's own")
    connection = await asyncpg.connect(
        host=target.host or "127.0.0.1", port=target.port or 5432, user=target.username, password=target.password, database="postgres", timeout=5
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await connection.close()
    return url
