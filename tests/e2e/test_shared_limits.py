"""Two `casework api` processes on one database share the request rate limit, the failed sign-ins
and the directory; with CASEWORK_REDIS_URL they share them through Redis instead."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.directory import Directory
from service.read_model import ReadModel, create_engine
from service.tables import counters
from tests.api.console_client import hidden_fields
from tests.conftest import TEST_USERS, auth, free_port
from tests.e2e.processes import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CASEWORK = Path(sys.executable).parent / "casework"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"])
async def shared(request, tmp_path):
    """(database URL, Redis URL or None) for the two processes to share."""
    if request.param != "postgresql":
        redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
        yield f"sqlite+aiosqlite:///{tmp_path}/shared.db", redis_url
        return
    url = os.environ.get("CASEWORK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CASEWORK_TEST_POSTGRES_URL is not set")
    name = f"cw_shared_{secrets.token_hex(4)}"
    admin = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.rsplit("/", 1)[0] + f"/{name}", None
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def counted_in(read_model: ReadModel, redis_url: str | None) -> str:
    """Where the agent's request count is: proof of which store the processes used."""
    async with read_model.engine.connect() as connection:
        in_database = (await connection.execute(select(counters.c.count).where(counters.c.key == "rate:user:ann"))).scalar()
    in_redis = None
    if redis_url:
        client = Redis.from_url(redis_url)
        in_redis = await client.get("casework:count:rate:user:ann")
        await client.aclose()
    return {(True, False): "database", (False, True): "redis"}.get((in_database is not None, in_redis is not None), "both or neither")


async def console_session_holds_across(apis: list[httpx.AsyncClient], name: str, password: str) -> None:
    first, second = apis
    form = hidden_fields((await first.get("/ui/login")).text)
    assert (await first.post("/ui/login", data={"csrf_token": form["csrf_token"], "name": name, "password": password})).status_code == 303
    second.cookies = first.cookies
    page = await second.get("/ui/cases/mine")
    assert page.status_code == 200 and "我的案件" in page.text
    csrf = hidden_fields(page.text)["csrf_token"]
    assert (await second.post("/ui/language", data={"csrf_token": csrf, "language": "en"})).status_code == 303
    assert "My cases" in (await first.get("/ui/cases/mine")).text
    assert (await first.post("/ui/logout", data={"csrf_token": csrf})).status_code == 303
    assert (await second.get("/ui/cases/mine")).headers["location"].startswith("/ui/login")


async def test_two_api_processes_share_the_rate_limit_failed_sign_ins_and_the_directory(shared, temporal_env, tmp_path):
    database_url, redis_url = shared
    read_model = ReadModel(create_engine(database_url))
    await read_model.upgrade()
    directory = Directory(read_model)
    await directory.add("lin", "agent", "a long password")
    token = (await directory.issue_token("lin")).token
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env.update(
        CASEWORK_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        CASEWORK_DATABASE_URL=database_url,
        CASEWORK_USERS=TEST_USERS,
        CASEWORK_RATE_LIMIT_PER_MINUTE="6",
        **({"CASEWORK_REDIS_URL": redis_url} if redis_url else {}),
    )
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"api-{port}.log" for port in ports]
    processes = [
        subprocess.Popen([str(CASEWORK), "api"], env={**env, "CASEWORK_HTTP_PORT": str(port)}, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
        for port, log in zip(ports, logs)
    ]
    try:
        for port, log in zip(ports, logs):
            await wait_healthy(port, log.read_text)
        apis = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) for port in ports]
        try:
            # Six requests a minute, counted across both: the seventh is refused, whichever answers.
            statuses = [(await apis[n % 2].get("/machines", headers=auth("agent"))).status_code for n in range(8)]
            assert statuses == [200] * 6 + [429, 429]
            assert int((await apis[1].get("/machines", headers=auth("agent"))).headers["retry-after"]) > 0
            assert await counted_in(read_model, redis_url) == ("redis" if redis_url else "database")
            # A console session begun on one replica holds on the other, with its CSRF token, and ends on both.
            await console_session_holds_across(apis, "lin", "a long password")
            # A directory token works on both, and stops on both when its user is disabled.
            directory_user = {"Authorization": f"Bearer {token}"}
            assert [(await api.get("/machines", headers=directory_user)).status_code for api in apis] == [200, 200]
            await directory.disable("lin")
            assert [(await api.get("/machines", headers=directory_user)).status_code for api in apis] == [401, 401]
        finally:
            for api in apis:
                await api.aclose()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        await read_model.close()

    # Failed sign-ins, each in a process of its own: the third attempt is refused, right password or not.
    await Directory(read_model_again := ReadModel(create_engine(database_url))).add("wen", "agent", "a long password")
    await read_model_again.close()

    def attempt(password: str) -> str:
        command = [sys.executable, "-m", "tests.e2e.sign_in_attempt", database_url, redis_url or "-", "wen", password]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout.strip()

    assert [attempt("guess one"), attempt("guess two"), attempt("a long password")] == ["failed", "failed", "refused"]
