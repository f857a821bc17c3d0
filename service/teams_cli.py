"""`casework teams …`, `casework routing …`, `casework users teams|away …`: the department on the
command line, while the API runs. Each change is in the department's change log, by `cli:<OS user>`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from service.directory import Directory
from service.read_model import ReadModel, engine_for
from service.settings import Settings
from service.teams import Department, Team
from service.users import Users
from service.users_cli import subcommand
from states.case import parse_time
from states.errors import InvalidData
from states.vocabulary import AssignmentMethod

# The actions this module adds to `casework users`.
USER_ACTIONS = ("teams", "away")
SHIFTS_HELP = 'a TOML or JSON file of the shifts, e.g. workdays = ["08:30-17:30", "17:00-01:00"] (default: always on shift)'
ROUTING_HELP = (
    "a TOML or JSON file (by its suffix; TOML unless .json) with the body of PUT /routing: "
    '[[rules]] with team = "…" and match = { kind = "complaint", vip = true }, then default_team = "…" if any'
)


class CommandFailed(Exception):
    """What the command could not do, said to its user."""


def add_commands(commands, users_actions) -> None:
    teams = subcommand(commands, "teams", "the department's teams: their site, supervisors, members, assignment method and shifts")
    actions = teams.add_subparsers(dest="teams_command", metavar="ACTION", required=True)
    add = subcommand(actions, "add", "add a team")
    add.add_argument("name", metavar="NAME", help="the team's name, as routing rules and case lists name it")
    add.add_argument("--site", required=True, metavar="SITE", help="where it works: the head office or a named remote or outsourced site")
    add.add_argument("--assignment", choices=tuple(AssignmentMethod), default=AssignmentMethod.ROUND_ROBIN, help="how a new case goes to one of its agents (default: %(default)s)")  # fmt: skip
    add.add_argument("--supervisor", action="append", default=[], metavar="USER", help="a supervisor or manager who leads it (repeatable)")
    add.add_argument("--member", action="append", default=[], metavar="USER", help="an agent or supervisor cases go to (repeatable)")
    add.add_argument("--shifts", type=Path, metavar="FILE", help=SHIFTS_HELP)
    subcommand(actions, "list", "list the teams by site, with their assignment method and people")
    show = subcommand(actions, "show", "show one team, with its shifts")
    show.add_argument("name", metavar="NAME")

    routing = subcommand(commands, "routing", "the rules that send each new case to a team (first match wins)")
    routing_actions = routing.add_subparsers(dest="routing_command", metavar="ACTION", required=True)
    subcommand(routing_actions, "show", "print the routing rules as JSON, the body `routing set` takes")
    set_routing = subcommand(routing_actions, "set", "replace the routing rules with those of a file")
    set_routing.add_argument("file", type=Path, metavar="FILE", help=ROUTING_HELP)

    user_teams = subcommand(users_actions, "teams", "make a user a member of exactly these teams (none: of no team)")
    user_teams.add_argument("name", metavar="NAME")
    user_teams.add_argument("teams", nargs="*", metavar="TEAM")
    away = subcommand(users_actions, "away", "mark a user on leave from one time to another (routing passes them by), or back")
    away.add_argument("name", metavar="NAME")
    away.add_argument("--from", dest="away_from", metavar="TIME", help="RFC 3339 with an offset, e.g. 2026-02-09T09:00:00+08:00")
    away.add_argument("--to", dest="away_to", metavar="TIME", help="the same; the leave ends before this time")
    away.add_argument("--back", action="store_true", help="they are back: no leave any more")


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    actor = f"cli:{getpass.getuser()}"
    try:
        async with _department(settings) as (department, users):
            if arguments.command == "teams":
                await _teams(department, actor, arguments)
            elif arguments.command == "routing":
                await _routing(department, actor, arguments)
            elif arguments.users_command == "teams":
                view = await users.change(actor, arguments.name, {"teams": arguments.teams})
                print(f"{arguments.name} is in: {', '.join(view.teams) or 'no team'}")
            else:
                view = await users.change(actor, arguments.name, {"away": _away(arguments)})
                away = view.person.away_from, view.person.away_to
                print(f"{arguments.name} is away from {away[0]:%Y-%m-%d %H:%M} to {away[1]:%Y-%m-%d %H:%M} UTC" if None not in away else f"{arguments.name} is back")  # fmt: skip
            return 0
    except (InvalidData, CommandFailed, LookupError) as error:
        print(f"casework: {error.args[0]}", file=sys.stderr)
    return 1


async def _teams(department: Department, actor: str, arguments: argparse.Namespace) -> None:
    if arguments.teams_command == "add":
        data = {"name": arguments.name, "site": arguments.site, "assignment": arguments.assignment,
                "supervisors": arguments.supervisor, "members": arguments.member}  # fmt: skip
        if arguments.shifts is not None:
            data["shifts"] = _read(arguments.shifts)
        team = await department.add_team(actor, data)
        print(f"added team {team.name} at {team.site} ({team.assignment})")
    elif arguments.teams_command == "list":
        _print_teams(await department.teams())
    else:
        found = await department.team(arguments.name)
        if found is None:
            raise CommandFailed(f"no team named {arguments.name!r}")
        for key, value in found.as_dict().items():
            shown = json.dumps(value, ensure_ascii=False) if key == "shifts" else value
            print(f"{key}: {', '.join(value) if isinstance(value, list) else shown}")


async def _routing(department: Department, actor: str, arguments: argparse.Namespace) -> None:
    if arguments.routing_command == "set":
        routing = await department.set_routing(actor, _read(arguments.file))
        print(f"routing replaced: {len(routing.rules)} rules, default team {routing.default_team or 'none'}")
    else:
        print(json.dumps((await department.routing()).as_data(), ensure_ascii=False, indent=2))


def _away(arguments: argparse.Namespace):
    if arguments.back:
        if arguments.away_from or arguments.away_to:
            raise CommandFailed("give --back alone, or --from and --to")
        return None
    if not (arguments.away_from and arguments.away_to):
        raise CommandFailed("give --from and --to, or --back")
    times = []
    for option, text in (("--from", arguments.away_from), ("--to", arguments.away_to)):
        try:
            times.append(parse_time(text))
        except ValueError as error:
            raise CommandFailed(f"{option}: {error}") from None
    return tuple(times)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except OSError as error:
        raise CommandFailed(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError) as error:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
        raise CommandFailed(f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {error}") from None


def _print_teams(teams: list[Team]) -> None:
    if not teams:
        print("no teams yet: add one with `casework teams add NAME --site SITE`")
        return
    rows = [("NAME", "SITE", "ASSIGNMENT", "SUPERVISORS", "MEMBERS")]
    rows += [(team.name, team.site, team.assignment, ",".join(team.supervisors) or "-", ",".join(team.members) or "-") for team in teams]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


@asynccontextmanager
async def _department(settings: Settings) -> AsyncIterator[tuple[Department, Users]]:
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.require_current_schema()
        department = Department(read_model)
        yield department, Users(Directory(read_model), department)
    finally:
        await read_model.close()
