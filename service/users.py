"""Users as the API shows them and a manager changes them: the directory's people
(service/directory.py) with their teams and leave (service/teams.py).

Every change lands in the department's change log (who, when, what); a password only as the fact
that it changed. A change is checked whole before any of it is written, so a refused one changes
nothing. Refusals are `InvalidData` naming the field; an unknown user is a LookupError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from service.directory import ADDRESS_FIELDS, LANGUAGES, Directory, DirectoryError, Person, check_new_password
from service.teams import Department, Subject, check_shifts
from states.errors import InvalidData
from states.vocabulary import SUPERVISING_ROLES, RefusalCode, Role

log = logging.getLogger("casework.users")

MAX_DISPLAY_NAME = 200
# What a manager may change of a user (PATCH /users/{name}).
CHANGEABLE = ("display_name", "role", "teams", "away", "shifts", "disabled", "password", *ADDRESS_FIELDS)
# Said in the change log in place of a password.
PASSWORD_CHANGED = "changed"
PASSWORD_SET = "set"
NO_PASSWORD = "none"


@dataclass(frozen=True)
class UserView:
    person: Person
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewUser:
    name: str
    role: str
    display_name: str | None = None
    teams: tuple[str, ...] = ()
    password: str | None = None  # None: no console sign-in until one is set
    language: str = LANGUAGES[0]
    addresses: dict[str, str | None] | None = None  # email, wecom_id, dingtalk_id, feishu_id


class Users:
    def __init__(self, directory: Directory, department: Department):
        self._directory = directory
        self._department = department

    async def all(self) -> list[UserView]:
        memberships = await self._department.memberships()
        return [UserView(person, memberships[person.name].teams if person.name in memberships else ()) for person in await self._directory.people()]

    async def one(self, name: str) -> UserView | None:
        person = await self._directory.person(name)
        if person is None:
            return None
        return UserView(person, (await self._department.membership(name)).teams)

    async def add(self, actor: str, new: NewUser) -> UserView:
        _check_role_in_teams(new.role, new.teams, "teams")
        if new.password is not None:
            _check_password(new.password)
        display_name = None if new.display_name is None else _display_name(new.display_name)
        _check_teams(new.teams, await self._department.team_names())
        try:
            person = await self._directory.add(new.name, new.role, new.password, display_name, new.language)
        except DirectoryError as error:  # role, password and language are checked above: what is left is the name
            raise InvalidData("name", str(error)) from None
        created = {"role": person.role, "display_name": person.display_name, "language": person.language}
        await self._department.record_change(actor, Subject.USER, person.name, {"created": {**created, "password": _password_note(new.password)}})
        if new.addresses:
            await self._set_addresses(actor, person.name, new.addresses)
        if new.teams:
            await self._department.set_user_teams(actor, person.name, new.teams)
        log.info("user %s added as %s by %s", person.name, person.role, actor)
        return await self._found(person.name)

    async def change(self, actor: str, name: str, changes: dict[str, Any]) -> UserView:
        """`changes`: any of CHANGEABLE; `away` is (from, to) or None (back), `teams` the full list."""
        unknown = set(changes) - set(CHANGEABLE)
        if unknown:
            raise InvalidData(sorted(unknown)[0], f"unknown key; keys: {', '.join(CHANGEABLE)}")
        current = await self.one(name)
        if current is None:
            raise LookupError(f"no user {name}")
        role = changes.get("role", current.person.role)
        if "teams" in changes:
            _check_role_in_teams(role, changes["teams"], "teams")
            _check_teams(changes["teams"], await self._department.team_names())
        else:
            _check_role_in_teams(role, current.teams, "role")
        if "password" in changes:
            _check_password(changes["password"])
        profile: dict[str, Any] = {key: changes[key] for key in ("role", "disabled") if key in changes}
        if "display_name" in changes:
            profile["display_name"] = _display_name(changes["display_name"])
        # A form sends every field: what is as it was is neither written nor logged.
        profile = {key: value for key, value in profile.items() if value != getattr(current.person, key)}
        if changes.get("shifts") is not None:
            check_shifts(changes["shifts"])
        away = changes.get("away")
        if away is not None and away[1] <= away[0]:
            raise InvalidData("away.to", "must be after away.from")

        if "teams" in changes and set(changes["teams"]) != set(current.teams):
            await self._department.set_user_teams(actor, name, changes["teams"])
        if "away" in changes:
            await self._department.set_away(actor, name, *(away or (None, None)))
        if "shifts" in changes:
            await self._department.set_user_shifts(actor, name, changes["shifts"])
        await self._change_profile(actor, name, profile, changes.get("password"))
        addresses = {key: changes[key] for key in ADDRESS_FIELDS if key in changes and changes[key] != getattr(current.person, key)}
        if addresses:
            await self._set_addresses(actor, name, addresses)
        return await self._found(name)

    async def _set_addresses(self, actor: str, name: str, addresses: dict[str, str | None]) -> None:
        try:
            await self._directory.set_addresses(name, addresses)
        except DirectoryError as error:
            raise InvalidData(next(iter(addresses)) if len(addresses) == 1 else "email", str(error)) from None
        await self._department.record_change(actor, Subject.USER, name, {"addresses": sorted(addresses)})

    async def _change_profile(self, actor: str, name: str, profile: dict[str, Any], password: str | None) -> None:
        if "role" in profile:
            await self._directory.set_role(name, profile["role"])
            if profile["role"] not in SUPERVISING_ROLES:
                await self._department.stop_leading(actor, name)
        if "display_name" in profile:
            await self._directory.set_display_name(name, profile["display_name"])
        if profile.get("disabled") is True:
            await self._directory.disable(name)
        elif profile.get("disabled") is False:
            await self._directory.enable(name)
        if password is not None:
            await self._directory.set_password(name, password)
            profile["password"] = PASSWORD_CHANGED
        if profile:
            await self._department.record_change(actor, Subject.USER, name, profile)
            log.info("user %s changed by %s: %s", name, actor, ", ".join(profile))

    async def _found(self, name: str) -> UserView:
        view = await self.one(name)
        assert view is not None, "the user was just written"
        return view


def _check_role_in_teams(role: str, teams: tuple[str, ...] | list[str], field: str) -> None:
    if role == Role.AUDITOR and teams:
        raise InvalidData(field, "auditors are in no team: take them out of their teams (teams: []) first")


def _check_teams(teams: tuple[str, ...] | list[str], known: list[str]) -> None:
    for index, team in enumerate(teams):
        if team not in known:
            raise InvalidData(f"teams[{index}]", f"no team is named {team!r}")


def _check_password(password: str) -> None:
    try:
        check_new_password(password)
    except DirectoryError as error:
        raise InvalidData("password", str(error)) from None


def _display_name(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_DISPLAY_NAME or not text.isprintable():
        raise InvalidData("display_name", f"must be 1 to {MAX_DISPLAY_NAME} printable characters", RefusalCode.INVALID_VALUE)
    return text


def _password_note(password: str | None) -> str:
    return NO_PASSWORD if password is None else PASSWORD_SET
