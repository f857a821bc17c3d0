"""Directory users through the real stack: `casework users` and `casework tokens` change the
directory while the API runs, the API accepts their tokens next to CASEWORK_USERS, and a disabled
user's token is refused on the very next request."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_USERS, auth

CASEWORK = Path(sys.executable).parent / "casework"


async def casework(settings, *arguments: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The command line on the stack's read model, run in a thread: the event loop goes on serving the
    stack's API and worker meanwhile, so a write transaction of theirs never waits on the command."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env.update(CASEWORK_DATABASE_URL=settings.read_model_url, CASEWORK_USERS=TEST_USERS)
    command = [str(CASEWORK), *arguments]
    return await asyncio.to_thread(subprocess.run, command, input=stdin, env=env, capture_output=True, text=True, timeout=120)


async def test_a_directory_token_works_until_its_user_is_disabled(http, stack_settings):
    name = f"lin-{secrets.token_hex(3)}"
    added = await casework(
        stack_settings, "users", "add", name, "--role", "agent", "--display-name", "林 小姐", "--password-stdin", stdin="a long password\n"
    )
    assert added.returncode == 0 and f"added {name} (agent)" in added.stdout, added.stderr
    assert "a long password" not in added.stdout + added.stderr
    created = await casework(stack_settings, "tokens", "create", name, "--label", "crm")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}

    case = await http.post("/cases", json={"kind": "complaint", "title": "目录用户的投诉"}, headers=headers)
    assert case.status_code == 201, case.text
    history = (await http.get(f"/cases/{case.json()['id']}/history", headers=headers)).json()["items"]
    assert (history[0]["actor"]["name"], history[0]["actor"]["role"]) == (name, "agent")
    assert (await http.get("/cases", headers=auth("supervisor"))).status_code == 200  # CASEWORK_USERS keep working

    listed = await casework(stack_settings, "users", "list")
    assert any(line.split()[:2] == [name, "agent"] and "enabled" in line for line in listed.stdout.splitlines()), listed.stdout
    disabled = await casework(stack_settings, "users", "disable", name)
    assert disabled.returncode == 0, disabled.stderr
    refused = await http.get("/cases", headers=headers)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("application/problem+json")
    assert "disabled" in (await casework(stack_settings, "users", "list")).stdout


async def test_the_commands_refuse_bad_input_with_a_clear_message(http, stack_settings):
    name = f"zhao-{secrets.token_hex(3)}"
    added = await casework(stack_settings, "users", "add", name, "--role", "agent", "--password-stdin", stdin="a long password\n")
    assert added.returncode == 0
    cases = [
        (("users", "add", name, "--role", "agent", "--password-stdin"), "a long password\n", f"a user named '{name}' exists already"),
        (("users", "add", name + "x", "--role", "boss", "--password-stdin"), "a long password\n", "role must be one of agent, supervisor, auditor"),
        (("users", "add", name + "x", "--role", "agent", "--password-stdin"), "\n", "the password is empty"),
        (("users", "set-password", "ghost", "--password-stdin"), "a long password\n", "no user named 'ghost'"),
        (("users", "disable", "ghost"), "", "no user named 'ghost'"),
        (("tokens", "create", "ghost"), "", "no user named 'ghost'"),
    ]
    for arguments, stdin, message in cases:
        result = await casework(stack_settings, *arguments, stdin=stdin)
        assert result.returncode == 1 and f"casework: {message}" in result.stderr, (arguments, result.stderr)
    assert (await http.get("/cases", headers={"Authorization": "Bearer cw_not-a-token"})).status_code == 401


def test_the_help_names_every_directory_command():
    help_text = subprocess.run([str(CASEWORK), "users", "--help"], capture_output=True, text=True, check=True).stdout
    assert all(action in help_text for action in ("add", "list", "set-password", "disable"))
    add_help = subprocess.run([str(CASEWORK), "users", "add", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--role ROLE" in add_help and "agent, supervisor, auditor" in add_help and "--password-stdin" in add_help
    assert "printed once" in subprocess.run([str(CASEWORK), "tokens", "create", "--help"], capture_output=True, text=True, check=True).stdout
