"""`casework users …` and `casework tokens …`: the directory on the command line. Works while the
API runs: every change is in the database, which each replica reads on every request."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.directory import ADDRESS_FIELDS, LANGUAGES, Directory, DirectoryError
from service.read_model import ReadModel, engine_for
from service.settings import ROLES, Settings

PASSWORD_STDIN = "read the password from standard input (one line), e.g. from a password manager or a file"


def subcommand(actions, name: str, help_text: str) -> argparse.ArgumentParser:
    return actions.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")


def add_commands(commands) -> argparse._SubParsersAction:
    """Adds `users` and `tokens`; returns the actions of `users`, for the department's to join them."""
    users = subcommand(commands, "users", "the people who sign in to the console (the directory in the read model)")
    actions = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = subcommand(actions, "add", "add a user (without --password-stdin, asks for the password twice on a terminal)")
    add.add_argument("name", metavar="NAME", help="the name they sign in with, recorded in case histories")
    add.add_argument("--role", required=True, metavar="ROLE", help=f"one of: {', '.join(ROLES)}")
    add.add_argument("--display-name", metavar="TEXT", help="how the console shows them (default: NAME)")
    add.add_argument("--language", choices=LANGUAGES, default=LANGUAGES[0], help="the console's language for them (default: %(default)s)")
    add.add_argument("--password-stdin", action="store_true", help=PASSWORD_STDIN)
    for address in ADDRESS_FIELDS:
        add.add_argument(f"--{address.replace('_', '-')}", metavar="ADDRESS", help=f"their {address} for notifications (docs/notification-rules.md)")
    subcommand(actions, "list", "list the users, their roles and whether they are disabled")
    addresses = subcommand(actions, "set-addresses", "set a user's addresses for notifications (an empty value removes one)")
    addresses.add_argument("name", metavar="NAME")
    for address in ADDRESS_FIELDS:
        addresses.add_argument(f"--{address.replace('_', '-')}", metavar="ADDRESS")
    set_password = subcommand(actions, "set-password", "give a user a new password (their sessions stay signed in)")
    set_password.add_argument("name", metavar="NAME")
    set_password.add_argument("--password-stdin", action="store_true", help=PASSWORD_STDIN)
    disable = subcommand(actions, "disable", "disable a user: their sessions and API tokens are refused from their next request on")
    disable.add_argument("name", metavar="NAME")
    tokens = subcommand(commands, "tokens", "API tokens of users in the directory")
    token_actions = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = subcommand(token_actions, "create", "issue an API token to a user; it is printed once, only its hash is kept")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--label", default="", metavar="TEXT", help="what the token is for, e.g. the system that uses it")
    return actions


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    try:
        async with _directory(settings) as directory:
            if arguments.command == "tokens":
                issued = await directory.issue_token(arguments.name, arguments.label)
                print(issued.token)
                print(f"token {issued.id} for {arguments.name}: shown this once; send it as Authorization: Bearer <token>", file=sys.stderr)
                return 0
            action = arguments.users_command
            if action == "add":
                password = _password(arguments.password_stdin)
                person = await directory.add(arguments.name, arguments.role, password, arguments.display_name, arguments.language)
                await directory.set_addresses(person.name, _addresses(arguments))
                print(f"added {person.name} ({person.role})")
            elif action == "set-addresses":
                await directory.set_addresses(arguments.name, _addresses(arguments))
                print(f"addresses of {arguments.name} changed")
            elif action == "list":
                _print_people(await directory.people())
            elif action == "set-password":
                if await directory.person(arguments.name) is None:  # before asking for a password in vain
                    raise DirectoryError(f"no user named {arguments.name!r}")
                await directory.set_password(arguments.name, _password(arguments.password_stdin))
                print(f"password of {arguments.name} changed")
            elif action == "disable":
                await directory.disable(arguments.name)
                print(f"disabled {arguments.name}: their sessions and tokens no longer work")
            return 0
    except DirectoryError as error:
        print(f"casework: {error}", file=sys.stderr)
        return 1


@asynccontextmanager
async def _directory(settings: Settings) -> AsyncIterator[Directory]:
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.require_current_schema()
        yield Directory(read_model)
    finally:
        await read_model.close()


def _addresses(arguments: argparse.Namespace) -> dict[str, str | None]:
    return {address: getattr(arguments, address) for address in ADDRESS_FIELDS if getattr(arguments, address) is not None}


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise DirectoryError("give the password on standard input with --password-stdin")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise DirectoryError("the two passwords differ")
    return password


def _print_people(people) -> None:
    if not people:
        print("no users yet: add one with `casework users add NAME --role ROLE --password-stdin`")
        return
    rows = [("NAME", "ROLE", "DISPLAY NAME", "LANGUAGE", "STATUS", "CREATED")]
    rows += [
        (p.name, p.role, p.display_name, p.language, "disabled" if p.disabled else "enabled", p.created_at.strftime("%Y-%m-%d %H:%M")) for p in people
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
