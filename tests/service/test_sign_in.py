"""Signing in: sessions that end, one message for any wrong credential, throttling per name and per
address. Over the database store (SQLite and PostgreSQL) and the Redis store."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from service.directory import Directory
from service.shared_store import DatabaseStore, RedisStore
from service.sign_in import Limits, SessionPolicy, SignIn, SignInFailed, SignInRefused, Throttle
from tests.service.conftest import _postgres_model, _sqlite_model

SHIFT = SessionPolicy()
RELAXED = Throttle(per_name=Limits(100, 100), per_address=Limits(100, 100))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"])
async def parts(request, tmp_path):
    """The directory and a shared store: the database's (SQLite, PostgreSQL) or Redis (directory on SQLite)."""
    models = _postgres_model() if request.param == "postgresql" else _sqlite_model(tmp_path)
    async for read_model in models:
        store = RedisStore(request.getfixturevalue("redis_url")) if request.param == "redis" else DatabaseStore(read_model)
        directory = Directory(read_model)
        await directory.add("li", "supervisor", "correct horse")
        await directory.add("wu", "agent", "battery staple")
        yield directory, store
        if isinstance(store, RedisStore):
            await store._redis.flushdb()
        await store.close()


class Delays(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_a_session_names_its_user_until_signed_out(parts, caplog):
    directory, store = parts
    sign_in = SignIn(directory, store, SHIFT, RELAXED)
    with caplog.at_level(logging.INFO, logger="casework.sign_in"):
        session = await sign_in.sign_in("li", "correct horse", "10.0.0.7")
        found = await sign_in.session_user(session.id)
        assert found is not None
        assert (found.user.name, found.user.role, found.user.display_name) == ("li", "supervisor", "li")
        assert await sign_in.session_user(session.id + "x") is None
        await sign_in.sign_out(session.id)
        assert await sign_in.session_user(session.id) is None
    assert "user li signed in from 10.0.0.7" in caplog.text and "user li signed out" in caplog.text
    assert "correct horse" not in caplog.text and session.id not in caplog.text


async def test_a_wrong_name_and_a_wrong_password_get_the_same_message(parts, caplog):
    directory, store = parts
    sign_in = SignIn(directory, store, SHIFT, RELAXED)
    with caplog.at_level(logging.INFO, logger="casework.sign_in"):
        with pytest.raises(SignInFailed) as wrong_password:
            await sign_in.sign_in("li", "correct hors", "10.0.0.7")
        with pytest.raises(SignInFailed) as wrong_name:
            await sign_in.sign_in("lee", "correct horse", "10.0.0.7")
    assert str(wrong_password.value) == str(wrong_name.value) == "wrong name or password"
    assert "correct hors" not in caplog.text and "sign-in failed for 'li' from 10.0.0.7" in caplog.text


async def test_failures_on_one_name_slow_down_then_refuse_it_for_a_while(parts):
    directory, store = parts
    delays = Delays()
    throttle = Throttle(per_name=Limits(slow_after=2, refuse_after=4), per_address=Limits(100, 100), delay_step=0.5, max_delay=0.75)
    sign_in = SignIn(directory, store, SHIFT, throttle, sleep=delays)
    for _ in range(4):
        with pytest.raises(SignInFailed):
            await sign_in.sign_in("li", "guess", "10.0.0.7")
    assert delays == [0, 0, 0.5, 0.75]
    with pytest.raises(SignInRefused) as refused:
        await sign_in.sign_in("li", "correct horse", "10.0.0.8")  # the right password, from elsewhere: refused all the same
    assert 60 < refused.value.retry_after <= 15 * 60
    assert (await sign_in.sign_in("wu", "battery staple", "10.0.0.7")).user.name == "wu"


async def test_a_refused_name_may_sign_in_again_when_its_window_ends_and_starts_afresh(parts):
    directory, store = parts
    delays = Delays()
    throttle = Throttle(window=timedelta(seconds=3), per_name=Limits(slow_after=1, refuse_after=1), per_address=Limits(100, 100))
    sign_in = SignIn(directory, store, SHIFT, throttle, sleep=delays)
    with pytest.raises(SignInFailed):
        await sign_in.sign_in("li", "guess", "10.0.0.7")
    with pytest.raises(SignInRefused) as refused:
        await sign_in.sign_in("li", "correct horse", "10.0.0.7")
    assert refused.value.retry_after <= 3
    await asyncio.sleep(3.1)
    assert (await sign_in.sign_in("li", "correct horse", "10.0.0.7")).user.name == "li"
    with pytest.raises(SignInFailed):  # the success started the name afresh: no delay
        await sign_in.sign_in("li", "guess", "10.0.0.7")
    assert delays == [0, 0, 0]


async def test_failures_from_one_address_refuse_it_whatever_the_name(parts):
    directory, store = parts
    throttle = Throttle(per_name=Limits(100, 100), per_address=Limits(slow_after=100, refuse_after=3))
    sign_in = SignIn(directory, store, SHIFT, throttle, sleep=Delays())
    for name in ("li", "wu", "zhao"):
        with pytest.raises(SignInFailed):
            await sign_in.sign_in(name, "guess", "10.0.0.7")
    with pytest.raises(SignInRefused):
        await sign_in.sign_in("wu", "battery staple", "10.0.0.7")
    assert (await sign_in.sign_in("wu", "battery staple", "10.0.0.9")).user.name == "wu"


async def test_a_disabled_users_session_ends_on_their_next_request(parts):
    directory, store = parts
    sign_in = SignIn(directory, store, SHIFT, RELAXED)
    session = await sign_in.sign_in("wu", "battery staple", "10.0.0.7")
    await directory.disable("wu")
    assert await sign_in.session_user(session.id) is None
    with pytest.raises(SignInFailed):
        await sign_in.sign_in("wu", "battery staple", "10.0.0.7")


async def test_a_session_ends_after_idle_time_and_after_its_lifetime(parts):
    directory, store = parts
    idle = SignIn(directory, store, SessionPolicy(idle=timedelta(seconds=1), lifetime=timedelta(hours=1)), RELAXED)
    short = SignIn(directory, store, SessionPolicy(idle=timedelta(hours=1), lifetime=timedelta(seconds=1.5)), RELAXED)
    left_alone = await idle.sign_in("li", "correct horse", "10.0.0.7")
    busy = await short.sign_in("li", "correct horse", "10.0.0.7")
    for _ in range(4):
        assert await short.session_user(busy.id) is not None or _ == 3
        await asyncio.sleep(0.5)
    assert await idle.session_user(left_alone.id) is None
    assert await short.session_user(busy.id) is None


async def test_a_name_no_user_can_have_is_a_wrong_name_whatever_it_holds(parts):
    directory, store = parts
    sign_in = SignIn(directory, store, SHIFT, RELAXED)
    for name in ("li\x00", "名" * 1000, "li li", ""):
        with pytest.raises(SignInFailed):
            await sign_in.sign_in(name, "correct horse", "10.0.0.7")
