"""A manager adds a user or changes one (role, teams, enabled or not): the directory and the
department's teams are changed together, and the change log says who did what (never a password)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.directory import Directory, DirectoryError
from service.teams import Department, Subject
from states.errors import InvalidData


@dataclass(frozen=True)
class NewUser:
    name: str
    role: str
    password: str
    display_name: str | None = None
    teams: Sequence[str] = ()


@dataclass(frozen=True)
class UserChange:
    """What to change; None leaves it as it is."""

    role: str | None = None
    teams: Sequence[str] | None = None
    disabled: bool | None = None


async def add_user(directory: Directory, department: Department, actor: str, new: NewUser) -> None:
    await _check_teams(department, new.teams)
    try:
        await directory.add(new.name, new.role, new.password, display_name=new.display_name)
    except DirectoryError as refused:
        raise InvalidData(_field_of(str(refused)), str(refused)) from None
    await department.record_change(actor, Subject.USER, new.name, {"created": {"role": new.role, "display_name": new.display_name}})
    if new.teams:
        await department.set_user_teams(actor, new.name, new.teams)


async def change_user(directory: Directory, department: Department, actor: str, name: str, change: UserChange) -> None:
    person = await directory.person(name)
    if person is None:
        raise LookupError(f"no user {name}")
    if change.teams is not None:
        await _check_teams(department, change.teams)
    if change.role is not None and change.role != person.role:
        try:
            await directory.set_role(name, change.role)
        except DirectoryError as refused:
            raise InvalidData("role", str(refused)) from None
        await department.record_change(actor, Subject.USER, name, {"role": change.role})
    if change.disabled is not None and change.disabled != person.disabled:
        await (directory.disable(name) if change.disabled else directory.enable(name))
        await department.record_change(actor, Subject.USER, name, {"disabled": change.disabled})
    if change.teams is not None and set(change.teams) != set((await department.membership(name)).teams):
        await department.set_user_teams(actor, name, change.teams)


async def _check_teams(department: Department, wanted: Sequence[str]) -> None:
    """Before anything is written, so a refused form changes nothing."""
    known = set(await department.team_names())
    for index, team in enumerate(wanted):
        if team not in known:
            raise InvalidData(f"teams[{index}]", f"no team is named {team!r}")


def _field_of(message: str) -> str:
    """Which field of the new user the directory refused."""
    for field in ("password", "role", "language"):
        if field in message:
            return field
    return "name"
