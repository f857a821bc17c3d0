"""One sign-in attempt in a process of its own, as an API replica would make it: prints `ok`,
`failed` or `refused`. For tests of throttling shared across processes.

    python -m tests.e2e.sign_in_attempt DATABASE_URL REDIS_URL|- NAME PASSWORD
"""

from __future__ import annotations

import asyncio
import sys

from service.directory import Directory
from service.read_model import ReadModel, create_engine
from service.shared_store import open_shared_store
from service.sign_in import Limits, SignIn, SignInFailed, SignInRefused, Throttle

# Refused after two failures, never slowed: the test counts outcomes, not time.
THROTTLE = Throttle(per_name=Limits(slow_after=100, refuse_after=2), per_address=Limits(slow_after=100, refuse_after=100))


async def attempt(database_url: str, redis_url: str | None, name: str, password: str) -> str:
    read_model = ReadModel(create_engine(database_url))
    store = open_shared_store(redis_url, read_model)
    try:
        await SignIn(Directory(read_model), store, throttle=THROTTLE).sign_in(name, password, "10.1.1.1")
        return "ok"
    except SignInFailed:
        return "failed"
    except SignInRefused:
        return "refused"
    finally:
        await store.close()
        await read_model.close()


if __name__ == "__main__":
    database_url, redis_url, name, password = sys.argv[1:5]
    print(asyncio.run(attempt(database_url, None if redis_url == "-" else redis_url, name, password)))
