"""`casework department apply FILE`: set up a whole department from one TOML file — its people,
teams (sites, supervisors, members, assignment, shifts) and routing rules — and again after each
change to the file: applying it twice changes nothing (docs/teams.md, docs/examples/department.toml).

New users get a random password, printed once to standard output (name, a tab, the password) for
their first sign-in; existing users keep theirs. Nothing is removed: people and teams the file no
longer names stay as they are (disable them with `casework users disable`).
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import tomllib
from typing import Any

from service.directory import ADDRESS_FIELDS, LANGUAGES, Directory, DirectoryError
from service.read_model import ReadModel, engine_for
from service.settings import Settings
from service.teams import Department
from states.errors import InvalidData

USER_KEYS = ("name", "display_name", "role", "language", "shifts", *ADDRESS_FIELDS)


def add_commands(commands) -> None:
    description = "the department's people, teams and routing, from one file"
    department = commands.add_parser("department", help=description, description=description[0].upper() + description[1:] + ".")
    actions = department.add_subparsers(dest="department_command", metavar="ACTION", required=True)
    apply = actions.add_parser(
        "apply",
        help="create or update users, teams and routing as FILE says; prints new users' first passwords",
        description="Create or update the users, teams and routing rules FILE (TOML) describes; applying it again changes nothing. "
        "New users get a random password, printed once as NAME<TAB>PASSWORD. Example: docs/examples/department.toml.",
    )
    apply.add_argument("file", metavar="FILE", help="a TOML file with [[users]], [[teams]] and [routing]")


def _read_plan(path: str) -> dict[str, Any]:
    with open(path, "rb") as file:
        return tomllib.load(file)


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        plan = _read_plan(arguments.file)  # a few kilobytes, before anything else runs
    except OSError as error:
        print(f"casework: cannot read {arguments.file}: {error.strerror}", file=sys.stderr)
        return 1
    except tomllib.TOMLDecodeError as error:
        print(f"casework: {arguments.file} is not valid TOML: {error}", file=sys.stderr)
        return 1
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.require_current_schema()
        department = Department(read_model, settings.timezone, settings.holidays)
        summary = await apply(plan, Directory(read_model), department, f"cli:{getpass.getuser()}")
    except (InvalidData, DirectoryError) as error:
        print(f"casework: {arguments.file}: {error}", file=sys.stderr)
        return 1
    finally:
        await read_model.close()
    for name, password in summary.pop("passwords"):
        print(f"{name}\t{password}")
    print(", ".join(f"{count} {what}" for what, count in summary.items()), file=sys.stderr)
    return 0


async def apply(plan: dict[str, Any], directory: Directory, department: Department, actor: str) -> dict[str, Any]:
    """Bring the department to what `plan` says; what changed, and the new users' first passwords."""
    unknown = sorted(set(plan) - {"users", "teams", "routing"})
    if unknown:
        raise InvalidData(unknown[0], "unknown section; sections: users, teams, routing")
    summary: dict[str, Any] = {"users added": 0, "teams added": 0, "teams updated": 0, "routing rules": 0, "passwords": []}
    for index, entry in enumerate(_list(plan, "users")):
        if await _apply_user(entry, f"users[{index}]", directory, department, actor, summary["passwords"]):
            summary["users added"] += 1
    known_teams = {team.name: team for team in await department.teams()}
    for index, entry in enumerate(_list(plan, "teams")):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InvalidData(f"teams[{index}].name", "is required")
        try:
            if entry["name"] in known_teams:
                changed = await department.change_team(actor, entry["name"], {key: value for key, value in entry.items() if key != "name"})
                summary["teams updated"] += changed.updated_at != known_teams[entry["name"]].updated_at
            else:
                await department.add_team(actor, entry)
                summary["teams added"] += 1
        except InvalidData as error:
            raise InvalidData(f"teams[{index}].{error.field}", error.message) from None
    if "routing" in plan:
        summary["routing rules"] = len((await department.set_routing(actor, plan["routing"])).rules)
    return summary


async def _apply_user(entry: Any, path: str, directory: Directory, department: Department, actor: str, passwords: list) -> bool:
    """Add the user unless they exist; set their shifts either way. True: added."""
    if not isinstance(entry, dict):
        raise InvalidData(path, "must be a table with name and role")
    unknown = sorted(set(entry) - set(USER_KEYS))
    if unknown:
        raise InvalidData(f"{path}.{unknown[0]}", f"unknown key; keys: {', '.join(USER_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str):
        raise InvalidData(f"{path}.name", "is required")
    added = False
    if await directory.person(name) is None:
        password = secrets.token_urlsafe(12)
        try:
            await directory.add(name, entry.get("role", ""), password, entry.get("display_name"), entry.get("language", LANGUAGES[0]))
        except DirectoryError as error:
            raise InvalidData(path, str(error)) from None
        passwords.append((name, password))
        added = True
    addresses = {key: entry[key] for key in ADDRESS_FIELDS if key in entry}
    if addresses:
        person = await directory.person(name)
        changed = {key: value for key, value in addresses.items() if person is None or getattr(person, key) != value}
        try:
            await directory.set_addresses(name, changed)
        except DirectoryError as error:
            raise InvalidData(path, str(error)) from None
    if "shifts" in entry:
        try:
            await department.set_user_shifts(actor, name, entry["shifts"])
        except InvalidData as error:
            raise InvalidData(f"{path}.{error.field}", error.message) from None
    return added


def _list(plan: dict[str, Any], section: str) -> list[Any]:
    entries = plan.get(section, [])
    if not isinstance(entries, list):
        raise InvalidData(section, f"must be a list of tables ([[{section}]])")
    return entries
