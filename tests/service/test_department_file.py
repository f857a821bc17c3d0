"""`casework department apply FILE` sets up a department of two sites, four teams and forty agents
on two shifts from the example file, and applying it again changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.directory import Directory
from service.read_model import ReadModel, create_engine
from service.teams import Department

CASEWORK = Path(sys.executable).parent / "casework"
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "department.toml"


def casework(database_url: str, *arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env["CASEWORK_DATABASE_URL"] = database_url
    return subprocess.run([str(CASEWORK), *arguments], env=env, capture_output=True, text=True, timeout=120, input=stdin)


@pytest.fixture
def database_url(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'casework.db'}"
    upgraded = casework(url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    return url


async def test_the_example_department_is_set_up_from_one_file_and_a_second_apply_changes_nothing(database_url):
    first = casework(database_url, "department", "apply", str(EXAMPLE))
    assert first.returncode == 0, first.stderr
    passwords = dict(line.split("\t") for line in first.stdout.splitlines())
    assert len(passwords) == 45 and all(len(password) >= 12 for password in passwords.values())
    assert "45 users added, 4 teams added, 0 teams updated, 3 routing rules" in first.stderr

    read_model = ReadModel(create_engine(database_url))
    try:
        department = Department(read_model)
        teams = {team.name: team for team in await department.teams()}
        assert sorted(teams) == ["VIP专席", "北京夜班", "北京日班", "成都物流组"]
        assert {team.site for team in teams.values()} == {"head_office", "成都外包"}
        assert sum(len(team.members) for team in teams.values()) == 40
        assert teams["北京夜班"].shifts == {"everyday": "17:00-01:00"} and teams["北京夜班"].supervisors == ("li.fang",)
        routing = await department.routing()
        assert routing.default_team == "北京日班" and routing.rules[0].team == "VIP专席"
        logged = len(await department.changes(limit=1000))
        wang = await Directory(read_model).person("wang.lei")
        assert wang is not None and (wang.email, wang.wecom_id, wang.feishu_id) == ("wang.lei@example.com", "WangLei", None)

        again = casework(database_url, "department", "apply", str(EXAMPLE))
        assert again.returncode == 0, again.stderr
        assert again.stdout == "" and "0 users added, 0 teams added, 0 teams updated" in again.stderr
        assert len(await department.changes(limit=1000)) == logged  # nothing changed, nothing logged
    finally:
        await read_model.close()


def test_a_mistake_in_the_file_is_named_and_nothing_after_it_is_applied(database_url, tmp_path):
    plan = tmp_path / "department.toml"
    plan.write_text(
        '[[users]]\nname = "ann"\nrole = "agent"\n\n[[teams]]\nname = "一组"\nsite = "总部"\nmembers = ["ann", "nobody"]\n', encoding="utf-8"
    )
    refused = casework(database_url, "department", "apply", str(plan))
    assert refused.returncode == 1
    assert "teams[0].members[1]" in refused.stderr and "nobody" in refused.stderr


def test_the_help_says_what_apply_does():
    shown = subprocess.run([str(CASEWORK), "department", "apply", "--help"], capture_output=True, text=True, check=True).stdout
    assert "applying it again changes nothing" in shown and "docs/examples/department.toml" in shown


async def test_users_addresses_are_set_from_the_command_line(database_url):
    added = casework(
        database_url,
        "users",
        "add",
        "chen",
        "--role",
        "agent",
        "--email",
        "chen@example.com",
        "--dingtalk-id",
        "0042",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert added.returncode == 0, added.stderr
    changed = casework(database_url, "users", "set-addresses", "chen", "--dingtalk-id", "", "--feishu-id", "ou_7")
    assert changed.returncode == 0, changed.stderr
    refused = casework(database_url, "users", "set-addresses", "chen", "--email", "nope")
    assert refused.returncode == 1 and "email" in refused.stderr
    read_model = ReadModel(create_engine(database_url))
    try:
        chen = await Directory(read_model).person("chen")
        assert chen is not None and (chen.email, chen.dingtalk_id, chen.feishu_id) == ("chen@example.com", None, "ou_7")
    finally:
        await read_model.close()
