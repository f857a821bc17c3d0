"""`casework teams`, `casework routing`, `casework users teams|away` on the real stack: what the
command line sets up, the API reads at once, and the change log says it was the command line."""

from __future__ import annotations

import getpass
import json
import secrets
import subprocess

from service.directory import Directory
from service.teams import Department
from tests.api.test_directory_tokens import CASEWORK, casework
from tests.conftest import auth


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_a_department_is_set_up_from_the_command_line_and_the_api_sees_it(http, stack_settings, read_model, tmp_path):
    suffix = secrets.token_hex(3)
    manager, lead, agents = f"经理-{suffix}", f"lead-{suffix}", [f"a{index}-{suffix}" for index in range(2)]
    added = await casework(stack_settings, "users", "add", manager, "--role", "manager", "--password-stdin", stdin="a long password\n")
    assert f"added {manager} (manager)" in succeeded(added)
    directory = Directory(read_model)
    await directory.add(lead, "supervisor", None)
    for agent in agents:
        await directory.add(agent, "agent", None)
    team, other = f"夜班-{suffix}", f"白班-{suffix}"
    shifts = tmp_path / "shifts.toml"
    shifts.write_text('workdays = ["08:30-17:30", "17:00-01:00"]\nsat = "09:00-18:00"\n', encoding="utf-8")

    arguments = ["teams", "add", team, "--site", "远程站点", "--assignment", "least_open_cases", "--supervisor", lead, "--shifts", str(shifts)]
    assert f"added team {team} at 远程站点 (least_open_cases)" in succeeded(
        await casework(stack_settings, *arguments, *(f"--member={a}" for a in agents))
    )
    succeeded(await casework(stack_settings, "teams", "add", other, "--site", "总部"))
    listed = succeeded(await casework(stack_settings, "teams", "list"))
    assert any(line.split()[:5] == [team, "远程站点", "least_open_cases", lead, ",".join(agents)] for line in listed.splitlines()), listed
    shown = succeeded(await casework(stack_settings, "teams", "show", team))
    assert f"members: {', '.join(agents)}" in shown and '"workdays": ["08:30-17:30", "17:00-01:00"]' in shown
    read = (await http.get(f"/teams/{team}", headers=auth("agent"))).json()
    assert (read["supervisors"], read["members"], read["shifts"]) == (
        [lead],
        agents,
        {"workdays": ["08:30-17:30", "17:00-01:00"], "sat": "09:00-18:00"},
    )

    assert f"{agents[0]} is in: {', '.join(sorted([team, other]))}" in succeeded(
        await casework(stack_settings, "users", "teams", agents[0], team, other)
    )
    assert (await http.get(f"/users/{agents[0]}", headers=auth("agent"))).json()["teams"] == sorted([team, other])
    away = await casework(stack_settings, "users", "away", agents[0], "--from", "2026-02-09T09:00:00+08:00", "--to", "2026-02-16T09:00:00+08:00")
    assert "away from 2026-02-09 01:00 to 2026-02-16 01:00 UTC" in succeeded(away)
    user = (await http.get(f"/users/{agents[0]}", headers=auth("agent"))).json()
    assert user["away"] == {"from": "2026-02-09T01:00:00.000000Z", "to": "2026-02-16T01:00:00.000000Z"}
    assert "is back" in succeeded(await casework(stack_settings, "users", "away", agents[0], "--back"))
    assert (await http.get(f"/users/{agents[0]}", headers=auth("agent"))).json()["away"] is None

    rules = tmp_path / "routing.toml"
    rules.write_text(f'default_team = "{other}"\n[[rules]]\nteam = "{team}"\nmatch = {{ kind = "complaint", vip = true }}\n', encoding="utf-8")
    try:
        assert "routing replaced: 1 rules, default team" in succeeded(await casework(stack_settings, "routing", "set", str(rules)))
        expected = {"rules": [{"match": {"kind": "complaint", "vip": True}, "team": team}], "default_team": other}
        assert json.loads(succeeded(await casework(stack_settings, "routing", "show"))) == expected
        assert (await http.get("/routing", headers=auth("agent"))).json() == expected
    finally:
        await Department(read_model).set_routing("tests", {"rules": []})

    log = (await http.get("/audit/directory", params={"limit": 20}, headers=auth("auditor"))).json()["items"]
    by_cli = {(change["subject"], change["name"]) for change in log if change["actor"] == f"cli:{getpass.getuser()}"}
    assert {("team", team), ("team", other), ("user", agents[0]), ("routing", "routing")} <= by_cli


async def test_the_department_commands_refuse_bad_input_with_a_clear_message(http, stack_settings, tmp_path):
    team = f"t-{secrets.token_hex(3)}"
    succeeded(await casework(stack_settings, "teams", "add", team, "--site", "总部"))
    bad_shifts, bad_toml, to_nowhere = tmp_path / "bad.toml", tmp_path / "broken.toml", tmp_path / "routing.json"
    bad_shifts.write_text('monday = "09:00-18:00"\n', encoding="utf-8")
    bad_toml.write_text("rules = [\n", encoding="utf-8")
    to_nowhere.write_text(json.dumps({"rules": [{"match": {}, "team": "nowhere"}]}), encoding="utf-8")
    cases = [
        (("teams", "add", team, "--site", "x"), f"name: a team named '{team}' exists already"),
        (("teams", "add", team + "2", "--site", "x", "--member", "ghost"), "members[0]: no user named 'ghost'"),
        (("teams", "add", team + "2", "--site", "x", "--shifts", str(bad_shifts)), "shifts.monday: unknown day"),
        (("teams", "add", team + "2", "--site", "x", "--shifts", str(tmp_path / "missing.toml")), f"cannot read {tmp_path / 'missing.toml'}"),
        (("teams", "show", "nowhere"), "no team named 'nowhere'"),
        (("routing", "set", str(to_nowhere)), "rules[0].team: no team is named 'nowhere'"),
        (("routing", "set", str(bad_toml)), f"{bad_toml} is not valid TOML"),
        (("users", "teams", "ghost", team), "no user ghost"),
        (("users", "away", "ghost", "--back"), "no user ghost"),
        (("users", "away", "ghost", "--from", "2026-02-09T09:00:00+08:00"), "give --from and --to, or --back"),
        (("users", "away", "ghost", "--from", "monday", "--to", "2026-02-09T09:00:00+08:00"), "--from: not an RFC 3339 time"),
    ]
    for arguments, message in cases:
        result = await casework(stack_settings, *arguments)
        assert result.returncode == 1 and f"casework: {message}" in result.stderr, (arguments, result.stderr)
    assert (await http.get(f"/teams/{team}2", headers=auth("agent"))).status_code == 404


def test_the_help_names_every_department_command():
    def help_of(*command: str) -> str:
        return subprocess.run([str(CASEWORK), *command, "--help"], capture_output=True, text=True, check=True).stdout

    assert all(action in help_of("teams") for action in ("add", "list", "show"))
    assert all(option in help_of("teams", "add") for option in ("--site SITE", "--supervisor USER", "--member USER", "--shifts FILE", "round_robin"))
    assert all(action in help_of("users") for action in ("teams", "away"))
    assert all(option in help_of("users", "away") for option in ("--from TIME", "--to TIME", "--back"))
    assert "show" in help_of("routing") and "[[rules]]" in help_of("routing", "set")
    assert "manager" in help_of("users", "add")
