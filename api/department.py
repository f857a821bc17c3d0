"""The department over HTTP: teams, routing rules, and the log of every change to them and to users
(users: api/users.py). Everyone signed in reads; only managers change; auditors and managers read the log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import msgspec
from litestar import Controller, Request, get, patch, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import UNSET, Meta, Struct, UnsetType

from api.auth import managers_only
from api.errors import problems
from api.schemas import KindName, PriorityName, one_of
from service.teams import MAX_MEMBERS, MAX_NAME, Department, Subject
from service.teams import Team as StoredTeam
from states.case import format_time
from states.routing import MAX_RULES
from states.spec import CASE_CATEGORIES
from states.vocabulary import AssignmentMethod, Role

if TYPE_CHECKING:
    AssignmentName: TypeAlias = str
    CategoryName: TypeAlias = str
    SubjectName: TypeAlias = str
else:
    AssignmentName = one_of(AssignmentMethod)
    CategoryName = Literal[CASE_CATEGORIES]
    SubjectName = Literal[(Subject.USER, Subject.TEAM, Subject.ROUTING)]

Name = Annotated[str, Meta(min_length=1, max_length=MAX_NAME)]
UserNames = Annotated[list[Name], Meta(max_length=MAX_MEMBERS)]
Shifts = Annotated[
    dict[str, Any],
    Meta(
        description='day (mon..sun, workdays, everyday) → "HH:MM-HH:MM" or a list of them; a span ending before it starts crosses midnight',
        examples=[{"workdays": ["08:30-17:30", "17:00-01:00"]}],
    ),
]
SlaPolicy = Annotated[
    dict[str, Any],
    Meta(description="the team's own service-level policy, like the CASEWORK_SLA_POLICY file; its calendar defaults to the department's"),
]
TeamName = Annotated[str, PathParameter(max_length=MAX_NAME, description="the team's name")]
# Who reads the change log of users, teams and routing.
LOG_READERS = (Role.AUDITOR, Role.MANAGER)


class Team(Struct):
    name: str
    site: str
    assignment: AssignmentName
    supervisors: list[str]
    members: list[str]
    shifts: dict[str, Any] | None  # null: always on shift
    sla_policy: dict[str, Any] | None  # null: the department's service-level policy
    created_at: str
    updated_at: str


class TeamList(Struct):
    items: list[Team]


class TeamIn(Struct):
    name: Name
    site: Name
    supervisors: UserNames = []
    members: UserNames = []
    assignment: AssignmentName = AssignmentMethod.ROUND_ROBIN.value
    shifts: Shifts | None = None
    sla_policy: SlaPolicy | None = None


class TeamChange(Struct):
    """Any subset of a team's fields; lists replace the team's whole list. A team keeps its name."""

    name: Name | UnsetType = UNSET
    site: Name | UnsetType = UNSET
    supervisors: UserNames | UnsetType = UNSET
    members: UserNames | UnsetType = UNSET
    assignment: AssignmentName | UnsetType = UNSET
    shifts: Shifts | UnsetType | None = UNSET
    sla_policy: SlaPolicy | UnsetType | None = UNSET


class RoutingMatch(Struct, forbid_unknown_fields=True):
    """What a rule matches; every field given must equal the case's. {} matches every case."""

    kind: KindName | UnsetType = UNSET
    category: CategoryName | UnsetType = UNSET
    channel: Annotated[str, Meta(max_length=100)] | UnsetType = UNSET
    priority: PriorityName | UnsetType = UNSET
    vip: bool | UnsetType = UNSET


class RoutingRule(Struct, forbid_unknown_fields=True):
    match: RoutingMatch
    team: Name


class Routing(Struct, forbid_unknown_fields=True):
    """The rules in order (first match wins); no match: the default team, or the case stays unrouted."""

    rules: Annotated[list[RoutingRule], Meta(max_length=MAX_RULES)]
    default_team: Name | None = None


class DirectoryChange(Struct):
    id: int
    at: str
    actor: str
    subject: SubjectName
    name: str
    change: dict[str, Any]


class DirectoryChanges(Struct):
    items: list[DirectoryChange]


def given(struct: Struct) -> dict[str, Any]:
    """The fields a PATCH body gave (null included), as plain data."""
    return {field: msgspec.to_builtins(value) for field in struct.__struct_fields__ if (value := getattr(struct, field)) is not UNSET}


def team_out(team: StoredTeam) -> Team:
    data = team.as_dict()
    return Team(**{**data, "created_at": format_time(team.created_at), "updated_at": format_time(team.updated_at)})


async def may_read_the_log(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in LOG_READERS:
        raise PermissionDeniedException("only auditors and managers may read the directory's change log")


class TeamController(Controller):
    path = "/teams"
    tags = ["department"]

    @post("/", guards=[managers_only], status_code=201, summary="Add a team (managers)", responses=problems(400, 403, 413, 422))
    async def add_team(self, request: Request, data: JSONBody[TeamIn], department: NamedDependency[Department]) -> Team:
        return team_out(await department.add_team(request.user.name, msgspec.to_builtins(data)))

    @get("/", summary="Every team, by site and name", responses=problems(400))
    async def list_teams(self, department: NamedDependency[Department]) -> TeamList:
        return TeamList(items=[team_out(team) for team in await department.teams()])

    @get("/{name:str}", summary="One team", responses=problems(400, 404, 422))
    async def get_team(self, name: TeamName, department: NamedDependency[Department]) -> Team:
        team = await department.team(name)
        if team is None:
            raise NotFoundException(f"no team named {name!r}")
        return team_out(team)

    @patch("/{name:str}", guards=[managers_only], summary="Change a team (managers): any of its fields", responses=problems(400, 403, 404, 413, 422))
    async def change_team(self, request: Request, name: TeamName, data: JSONBody[TeamChange], department: NamedDependency[Department]) -> Team:
        try:
            return team_out(await department.change_team(request.user.name, name, given(data)))
        except LookupError:
            raise NotFoundException(f"no team named {name!r}") from None


class RoutingController(Controller):
    path = "/routing"
    tags = ["department"]

    @get("/", summary="The routing rules new cases go to teams by", responses=problems(400))
    async def get_routing(self, department: NamedDependency[Department]) -> Routing:
        return msgspec.convert((await department.routing()).as_data(), Routing)

    @put("/", guards=[managers_only], summary="Replace the routing rules (managers)", responses=problems(400, 403, 413, 422))
    async def set_routing(self, request: Request, data: JSONBody[Routing], department: NamedDependency[Department]) -> Routing:
        routing = await department.set_routing(request.user.name, msgspec.to_builtins(data))
        return msgspec.convert(routing.as_data(), Routing)


class DirectoryLogController(Controller):
    path = "/audit/directory"
    tags = ["audit"]
    guards = [may_read_the_log]

    @get("/", summary="Who changed which user, team or routing, when and how; newest first", responses=problems(400, 403, 422))
    async def directory_changes(
        self, department: NamedDependency[Department], limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200
    ) -> DirectoryChanges:
        changes = await department.changes(limit)
        return DirectoryChanges(
            items=[DirectoryChange(c["id"], format_time(c["at"]), c["actor"], c["subject"], c["name"], c["change"]) for c in changes]
        )
