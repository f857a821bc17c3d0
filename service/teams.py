"""The department: its teams (site, supervisors, members, assignment method, shifts), who is away,
its routing rules, and a log of every change to them that auditors read.

Like the directory it lives in the read-model database and nothing is cached, so every API replica
and worker sees a change on its next request. Refusals are `InvalidData` naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.read_model import ReadModel
from service.tables import cases, department, directory_changes, team_members, teams, users
from states.case import Authority, as_utc
from states.errors import InvalidData
from states.holidays import NO_HOLIDAYS, HolidayCalendar
from states.policy_error import PolicyError
from states.routing import Routing, parse_routing
from states.shifts import parse_shifts
from states.sla_policy import parse_policy, with_department_calendar
from states.vocabulary import SUPERVISING_ROLES, AssignmentMethod, Phase, RefusalCode, Role

log = logging.getLogger("casework.teams")

ROUTING_KEY = "routing"
MAX_NAME = 100
MAX_MEMBERS = 500
# Who is named where: a team's supervisors lead it; its members are who cases go to.
MEMBER_ROLES = (Role.AGENT, *SUPERVISING_ROLES)
# Built once: read on every request that acts (Department.membership).
MEMBERSHIP = select(team_members).where(team_members.c.user_name == bindparam("user_name")).order_by(team_members.c.team)


class Subject:
    """What a directory change is about (the `subject` of its log row)."""

    USER = "user"
    TEAM = "team"
    ROUTING = "routing"


@dataclass(frozen=True)
class Team:
    name: str
    site: str
    assignment: str
    supervisors: tuple[str, ...]
    members: tuple[str, ...]
    shifts: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    last_assigned: str | None = None  # where round robin goes on from
    sla_policy: dict[str, Any] | None = None  # its own service-level policy; None: the department's

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "site": self.site,
            "assignment": self.assignment,
            "supervisors": list(self.supervisors),
            "members": list(self.members),
            "shifts": self.shifts,
            "sla_policy": self.sla_policy,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Agent:
    """A team's agent as routing sees them."""

    name: str
    away: bool
    shifts: dict[str, Any] | None  # their own; None: the team's


@dataclass(frozen=True)
class Membership:
    """The teams one person is in, and those of them they lead."""

    teams: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()


def leads_agent(role: str | None, leads: Iterable[str], agent_teams: Iterable[str]) -> bool:
    """Who may judge an agent's work: a manager always; a supervisor who leads one of the agent's
    teams (any supervisor when the agent is in no team)."""
    if role == Role.MANAGER:
        return True
    if role != Role.SUPERVISOR:
        return False
    agent_teams = tuple(agent_teams)
    return not agent_teams or bool(set(agent_teams) & set(leads))


class Department:
    def __init__(self, read_model: ReadModel, timezone: str = "Asia/Shanghai", holidays: HolidayCalendar = NO_HOLIDAYS):
        self._read_model = read_model
        self._engine = read_model.engine
        # What a team's own service-level policy takes from the department's calendar when it says nothing.
        self._calendar = (timezone, holidays)

    # --- teams ------------------------------------------------------------------------------------

    async def add_team(self, actor: str, data: dict[str, Any]) -> Team:
        name = _text(data.get("name"), "name")
        fields = _team_fields(data, creating=True, calendar=self._calendar)
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            if await _team_row(connection, name) is not None:
                raise InvalidData("name", f"a team named {name!r} exists already")
            row = {
                "name": name,
                "site": fields["site"],
                "assignment": fields["assignment"],
                "shifts": fields.get("shifts"),
                "sla_policy": fields.get("sla_policy"),
            }
            await connection.execute(insert(teams).values(created_at=now, updated_at=now, **row))
            await _set_members(connection, name, fields["supervisors"], fields["members"])
            await _log(connection, actor, Subject.TEAM, name, {"created": _loggable(fields)})
        log.info("team %s added by %s", name, actor)
        return await self._found(name)

    async def change_team(self, actor: str, name: str, data: dict[str, Any]) -> Team:
        """Change what `data` gives; a field given as it already is changes nothing and is not logged."""
        if "name" in data and data["name"] != name:
            raise InvalidData("name", "a team keeps its name")
        fields = _team_fields(data, creating=False, calendar=self._calendar)
        async with self._engine.begin() as connection:
            row = await _team_row(connection, name)
            if row is None:
                raise LookupError(f"no team {name}")
            current = (await _team(connection, row)).as_dict()
            fields = {key: value for key, value in fields.items() if _loggable({key: value})[key] != _loggable({key: current[key]})[key]}
            values = {key: fields[key] for key in ("site", "assignment", "shifts", "sla_policy") if key in fields}
            if fields:
                await connection.execute(update(teams).where(teams.c.name == name).values(updated_at=datetime.now(UTC), **values))
            if "supervisors" in fields or "members" in fields:
                supervisors = fields.get("supervisors", tuple(current["supervisors"]))
                members = fields.get("members", tuple(current["members"]))
                await _set_members(connection, name, supervisors, members)
            if fields:
                await _log(connection, actor, Subject.TEAM, name, {"changed": _loggable(fields)})
                log.info("team %s changed by %s", name, actor)
        return await self._found(name)

    async def teams(self) -> list[Team]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(teams).order_by(teams.c.site, teams.c.name))).mappings().all()
            return [await _team(connection, row) for row in rows]

    async def team(self, name: str) -> Team | None:
        async with self._engine.connect() as connection:
            row = await _team_row(connection, name)
            return None if row is None else await _team(connection, row)

    async def team_names(self) -> list[str]:
        async with self._engine.connect() as connection:
            return list((await connection.execute(select(teams.c.name).order_by(teams.c.name))).scalars())

    async def sites(self) -> list[str]:
        async with self._engine.connect() as connection:
            return list((await connection.execute(select(teams.c.site).distinct().order_by(teams.c.site))).scalars())

    async def membership(self, user_name: str) -> Membership:
        """Read on every request that acts or narrows what a person sees: in one hop (ReadModel.read)."""
        rows = await self._read_model.read(lambda connection: connection.execute(MEMBERSHIP, {"user_name": user_name}).all())
        return Membership(tuple(row.team for row in rows), tuple(row.team for row in rows if row.supervises))

    async def memberships(self) -> dict[str, Membership]:
        """Everyone's teams at once, by user name (those in no team are not listed)."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(team_members).order_by(team_members.c.user_name, team_members.c.team))).all()
        found: dict[str, Membership] = {}
        for row in rows:
            held = found.get(row.user_name, Membership())
            found[row.user_name] = Membership((*held.teams, row.team), (*held.leads, row.team) if row.supervises else held.leads)
        return found

    async def stop_leading(self, actor: str, user_name: str) -> None:
        """The user no longer leads any team (they stay a member): for a supervisor who becomes an agent."""
        async with self._engine.begin() as connection:
            changed = await connection.execute(
                update(team_members).where(team_members.c.user_name == user_name, team_members.c.supervises.is_(True)).values(supervises=False)
            )
            if changed.rowcount:
                await _log(connection, actor, Subject.USER, user_name, {"leads": []})

    async def authority(self, user_name: str, ownership: bool, membership: Membership | None = None) -> Authority:
        """What the case rules need to know of a person acting now (states/ownership.py); `membership`:
        theirs, where this request has read it already."""
        membership = membership or await self.membership(user_name)
        return Authority(user_name, membership.teams, membership.leads, ownership)

    async def set_user_teams(self, actor: str, user_name: str, team_names: Iterable[str]) -> None:
        """Make the user a member of exactly these teams (leading those they led before)."""
        wanted = list(dict.fromkeys(team_names))
        async with self._engine.begin() as connection:
            known = set((await connection.execute(select(teams.c.name))).scalars())
            for index, team in enumerate(wanted):
                if team not in known:
                    raise InvalidData(f"teams[{index}]", f"no team is named {team!r}")
            leads = {
                row.team for row in await connection.execute(select(team_members).where(team_members.c.user_name == user_name)) if row.supervises
            }
            await connection.execute(delete(team_members).where(team_members.c.user_name == user_name))
            for team in wanted:
                await connection.execute(insert(team_members).values(team=team, user_name=user_name, supervises=team in leads))
            await _log(connection, actor, Subject.USER, user_name, {"teams": wanted})

    async def is_enabled_user(self, name: str) -> bool | None:
        """True: an enabled user; False: a disabled one; None: no such user in the directory."""
        async with self._engine.connect() as connection:
            disabled = (await connection.execute(select(users.c.disabled).where(users.c.name == name))).scalar()
        return None if disabled is None else not disabled

    # --- away -------------------------------------------------------------------------------------

    async def set_away(self, actor: str, user_name: str, away_from: datetime | None, away_to: datetime | None) -> None:
        """On leave from–to (both given), or back (both None)."""
        if (away_from is None) != (away_to is None):
            raise InvalidData("away", "give both from and to, or neither to mark the user back")
        if away_from is not None and away_to is not None and away_to <= away_from:
            raise InvalidData("away.to", "must be after away.from")
        # In UTC: SQLite keeps a time's wall clock and drops its offset.
        away_from, away_to = (None if moment is None else moment.astimezone(UTC) for moment in (away_from, away_to))
        async with self._engine.begin() as connection:
            changed = await connection.execute(update(users).where(users.c.name == user_name).values(away_from=away_from, away_to=away_to))
            if not changed.rowcount:
                raise LookupError(f"no user {user_name}")
            away = None if away_from is None else {"from": away_from.isoformat(), "to": away_to.isoformat() if away_to else None}
            await _log(connection, actor, Subject.USER, user_name, {"away": away})

    # --- routing ----------------------------------------------------------------------------------

    async def routing(self) -> Routing:
        """Read for every new case routed (the dispatch activity): in one hop (ReadModel.read)."""
        query = select(department.c.value).where(department.c.key == ROUTING_KEY)
        value = await self._read_model.read(lambda connection: connection.execute(query).scalar())
        if value is None:
            return Routing()
        return parse_routing(value, [rule["team"] for rule in value["rules"]] + [value.get("default_team")])

    async def set_routing(self, actor: str, data: Any) -> Routing:
        routing = parse_routing(data, await self.team_names())
        if routing == await self.routing():
            return routing
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            await connection.execute(delete(department).where(department.c.key == ROUTING_KEY))
            await connection.execute(insert(department).values(key=ROUTING_KEY, value=routing.as_data(), updated_at=now))
            await _log(connection, actor, Subject.ROUTING, ROUTING_KEY, routing.as_data())
        log.info("routing rules replaced by %s (%d rules)", actor, len(routing.rules))
        return routing

    # --- what routing reads ------------------------------------------------------------------------

    async def open_cases_by_owner(self, names: Iterable[str]) -> dict[str, int]:
        query = select(cases.c.owner, func.count()).where(cases.c.owner.in_(list(names)), cases.c.state != Phase.CLOSED).group_by(cases.c.owner)
        async with self._engine.connect() as connection:
            return {owner: count for owner, count in (await connection.execute(query)).all()}

    async def agents_of(self, team: str, now: datetime) -> list[Agent]:
        """The team's enabled agents (members with the agent role): away now or not, and their own shifts."""
        query = (
            select(users.c.name, users.c.away_from, users.c.away_to, users.c.shifts)
            .join(team_members, team_members.c.user_name == users.c.name)
            .where(team_members.c.team == team, users.c.role == Role.AGENT, users.c.disabled.is_(False))
            .order_by(users.c.name)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [Agent(row.name, is_away_now(row.away_from, row.away_to, now), row.shifts) for row in rows]

    async def set_user_shifts(self, actor: str, user_name: str, shifts: dict[str, Any] | None) -> None:
        """The user's own shifts (None: their teams' shifts); refusals name `shifts...`."""
        if shifts is not None:
            check_shifts(shifts)
        async with self._engine.begin() as connection:
            found = (await connection.execute(select(users.c.shifts).where(users.c.name == user_name))).first()
            if found is None:
                raise LookupError(f"no user {user_name}")
            if found.shifts != shifts:
                await connection.execute(update(users).where(users.c.name == user_name).values(shifts=shifts))
                await _log(connection, actor, Subject.USER, user_name, {"shifts": shifts})

    async def note_assigned(self, team: str, agent: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(update(teams).where(teams.c.name == team).values(last_assigned=agent))

    # --- the log ----------------------------------------------------------------------------------

    async def changes(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest changes to users, teams and routing, newest first."""
        query = select(directory_changes).order_by(directory_changes.c.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [{**row, "at": as_utc(row["at"])} for row in rows]

    async def record_change(self, actor: str, subject: str, name: str, change: dict[str, Any]) -> None:
        async with self._engine.begin() as connection:
            await _log(connection, actor, subject, name, change)

    async def _found(self, name: str) -> Team:
        team = await self.team(name)
        assert team is not None, "the team was just written"
        return team


def is_away_now(away_from: datetime | None, away_to: datetime | None, now: datetime) -> bool:
    if away_from is None or away_to is None:
        return False
    return as_utc(away_from) <= now < as_utc(away_to)


TEAM_KEYS = ("name", "site", "supervisors", "members", "assignment", "shifts", "sla_policy")


def _team_fields(data: dict[str, Any], creating: bool, calendar: tuple[str, HolidayCalendar]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidData("body", "must be an object", RefusalCode.WRONG_TYPE)
    unknown = set(data) - set(TEAM_KEYS)
    if unknown:
        raise InvalidData(sorted(unknown)[0], f"unknown key; keys: {', '.join(TEAM_KEYS)}")
    fields: dict[str, Any] = {}
    if "site" in data or creating:
        fields["site"] = _text(data.get("site"), "site")
    if "assignment" in data or creating:
        assignment = data.get("assignment", AssignmentMethod.ROUND_ROBIN)
        if assignment not in tuple(AssignmentMethod):
            raise InvalidData("assignment", f"must be one of: {', '.join(AssignmentMethod)}")
        fields["assignment"] = str(assignment)
    for key in ("supervisors", "members"):
        if key in data or creating:
            fields[key] = _names(data.get(key, []), key)
    if "shifts" in data:
        if data["shifts"] is not None:
            check_shifts(data["shifts"])
        fields["shifts"] = data["shifts"]
    if "sla_policy" in data:
        fields["sla_policy"] = None if data["sla_policy"] is None else _team_policy(data["sla_policy"], calendar)
    return fields


def check_shifts(shifts: Any) -> None:
    try:
        parse_shifts(shifts, "shifts")
    except PolicyError as error:
        raise InvalidData(error.key, str(error).removeprefix(f"{error.key}: ")) from None


def _team_policy(data: Any, calendar: tuple[str, HolidayCalendar]) -> dict[str, Any]:
    """The team's own service-level policy, as CASEWORK_SLA_POLICY's file would say it (docs)."""
    if not isinstance(data, dict):
        raise InvalidData("sla_policy", "must be an object like the CASEWORK_SLA_POLICY file", RefusalCode.WRONG_TYPE)
    completed = with_department_calendar(data, *calendar)
    try:
        parse_policy(completed)
    except PolicyError as error:
        raise InvalidData(f"sla_policy.{error.key}", str(error).removeprefix(f"{error.key}: ")) from None
    return completed


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidData(field, "is required", RefusalCode.MISSING_FIELD)
    value = value.strip()
    if len(value) > MAX_NAME or not value.isprintable():
        raise InvalidData(field, f"must be at most {MAX_NAME} printable characters")
    return value


def _names(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_MEMBERS or not all(isinstance(name, str) for name in value):
        raise InvalidData(field, f"must be a list of at most {MAX_MEMBERS} user names", RefusalCode.WRONG_TYPE)
    return tuple(dict.fromkeys(value))


async def _set_members(connection: AsyncConnection, team: str, supervisors: tuple[str, ...], members: tuple[str, ...]) -> None:
    named = set(supervisors) | set(members)
    found = {row.name: row for row in await connection.execute(select(users.c.name, users.c.role).where(users.c.name.in_(named)))}
    for field, names in (("supervisors", supervisors), ("members", members)):
        for index, name in enumerate(names):
            if name not in found:
                raise InvalidData(f"{field}[{index}]", f"no user named {name!r}")
            roles = SUPERVISING_ROLES if field == "supervisors" else MEMBER_ROLES
            if found[name].role not in roles:
                raise InvalidData(f"{field}[{index}]", f"{name!r} is a {found[name].role}; {field} are {', '.join(roles)}s")
    await connection.execute(delete(team_members).where(team_members.c.team == team))
    for name in dict.fromkeys((*supervisors, *members)):
        await connection.execute(insert(team_members).values(team=team, user_name=name, supervises=name in supervisors))


async def _team_row(connection: AsyncConnection, name: str):
    return (await connection.execute(select(teams).where(teams.c.name == name))).mappings().first()


async def _members(connection: AsyncConnection, team: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = (await connection.execute(select(team_members).where(team_members.c.team == team).order_by(team_members.c.user_name))).all()
    return tuple(row.user_name for row in rows if row.supervises), tuple(row.user_name for row in rows if not row.supervises)


async def _team(connection: AsyncConnection, row) -> Team:
    supervisors, members = await _members(connection, row["name"])
    return Team(
        row["name"],
        row["site"],
        row["assignment"],
        supervisors,
        members,
        row["shifts"],
        as_utc(row["created_at"]),
        as_utc(row["updated_at"]),
        row["last_assigned"],
        row["sla_policy"],
    )


async def _log(connection: AsyncConnection, actor: str, subject: str, name: str, change: dict[str, Any]) -> None:
    await connection.execute(insert(directory_changes).values(at=datetime.now(UTC), actor=actor, subject=subject, name=name, change=change))


def _loggable(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}
