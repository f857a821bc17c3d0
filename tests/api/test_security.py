"""Security by default: hashed tokens, a per-token rate limit, security headers, CORS only when asked."""

import dataclasses
import hashlib
import inspect

import pytest
from litestar.routes import HTTPRoute

from api.app import create_app
from service.read_model import ReadModel, create_engine
from service.settings import Settings, SettingsError
from tests.conftest import auth, free_port, serving, settings_for


async def test_responses_carry_security_headers(http):
    response = await http.get("/cases", headers=auth("agent"))
    for name, value in [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("cache-control", "no-store")]:
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "access-control-allow-origin" not in (await http.get("/health", headers={"Origin": "https://evil.example"})).headers


def test_every_guard_runs_on_the_event_loop():
    """Litestar runs a plain-function guard in a worker thread: a thread hop on every request it guards
    (about 5 % of the API's CPU per transition, docs/benchmarks.md). Every guard is a coroutine function."""
    app = create_app(settings_for("127.0.0.1:7233", "sqlite+aiosqlite://"))
    handlers = [handler for route in app.routes for handler in (route.route_handlers if isinstance(route, HTTPRoute) else [route.route_handler])]
    guards = {guard for handler in handlers for layer in handler.ownership_layers for guard in layer.guards or ()}
    assert len(guards) >= 10  # the walk reaches them all: the API's and the console's
    assert [guard.__qualname__ for guard in guards if not inspect.iscoroutinefunction(guard)] == []


async def test_a_token_over_its_rate_gets_429_with_retry_after(worker, stack_settings, tmp_path):
    # A read model of its own: the counts live in the database, shared with every other API on it.
    settings = dataclasses.replace(stack_settings, rate_limit_per_minute=5, database_url=f"sqlite+aiosqlite:///{tmp_path}/rate.db")
    await upgraded(settings)
    async with serving(settings) as client:
        statuses = [(await client.get("/machines", headers=auth("agent"))).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        limited = await client.get("/machines", headers=auth("agent"))
        assert limited.json()["status"] == 429 and int(limited.headers["retry-after"]) > 0
        assert (await client.get("/machines", headers=auth("supervisor"))).status_code == 200
        assert (await client.get("/health")).status_code == 200
        # Guessing tokens counts against the client's address, whatever token it tries.
        guesses = [(await client.get("/machines", headers={"Authorization": f"Bearer guess-{n}"})).status_code for n in range(6)]
        assert guesses == [401] * 5 + [429]


async def upgraded(settings: Settings) -> None:
    read_model = ReadModel(create_engine(settings.read_model_url))
    await read_model.upgrade()
    await read_model.close()


async def test_cors_answers_only_the_configured_origins(worker, stack_settings):
    async with serving(dataclasses.replace(stack_settings, cors_origins=("https://desk.example",))) as client:
        allowed = await client.options("/cases", headers={"Origin": "https://desk.example", "Access-Control-Request-Method": "POST"})
        assert allowed.headers["access-control-allow-origin"] == "https://desk.example"
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_users_file_holds_token_hashes_only(tmp_path):
    token = "a-long-secret-token-for-li"
    users_file = tmp_path / "users"
    users_file.write_text(f"# the supervisors\nli:supervisor:sha256={hashlib.sha256(token.encode()).hexdigest()}\nwu:agent:another-long-token-123\n")
    settings = Settings.from_env({"CASEWORK_USERS_FILE": str(users_file), "CASEWORK_HTTP_HOST": "0.0.0.0"})
    assert [(user.name, user.role) for user in settings.users] == [("li", "supervisor"), ("wu", "agent")]
    assert token not in repr(settings) and "another-long-token-123" not in repr(settings)
    from api.auth import find_user

    li, wu = find_user(settings.users, token), find_user(settings.users, "another-long-token-123")
    assert li is not None and li.name == "li"
    assert wu is not None and wu.name == "wu"
    assert find_user(settings.users, token + "x") is None


@pytest.mark.parametrize("line", ["li:supervisor:sha256=abc", "system:agent:0123456789abcdef0123"])
def test_a_bad_users_file_is_refused(tmp_path, line):
    users_file = tmp_path / "users"
    users_file.write_text(line + "\n")
    with pytest.raises(SettingsError, match="CASEWORK_USERS_FILE"):
        Settings.from_env({"CASEWORK_USERS_FILE": str(users_file)})


async def test_a_shared_store_that_does_not_answer_is_a_503_not_a_500(worker, stack_settings):
    async with serving(dataclasses.replace(stack_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")) as client:
        response = await client.get("/machines", headers=auth("agent"))
        assert response.status_code == 503 and response.headers["retry-after"] == "2", response.text
        assert (await client.get("/health")).status_code == 200
