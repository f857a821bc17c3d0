"""The directory's users over HTTP: everyone signed in reads them (never a password hash or a
token); managers add and change them. Every change is in the log at GET /audit/directory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, PathParameter
from msgspec import UNSET, Meta, Struct, UnsetType

from api.auth import managers_only
from api.department import Name, UserNames, given
from api.errors import problems
from api.schemas import one_of
from service.directory import ADDRESS_FIELDS, LANGUAGES
from service.users import MAX_DISPLAY_NAME, NewUser, Users, UserView
from states.case import format_time, parse_time
from states.errors import InvalidData
from states.vocabulary import Role

if TYPE_CHECKING:
    RoleName: TypeAlias = str
    Language: TypeAlias = str
else:
    RoleName = one_of(Role)
    Language = Literal[LANGUAGES]

DisplayName = Annotated[str, Meta(min_length=1, max_length=MAX_DISPLAY_NAME)]
Password = Annotated[str, Meta(max_length=1000, description="at least 8 characters; stored as an argon2id hash")]
Time = Annotated[str, Meta(max_length=64, description="RFC 3339 with an offset, e.g. 2026-02-09T09:00:00+08:00")]
Email = Annotated[str, Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$", description="for email notifications")]
ImId = Annotated[str, Meta(max_length=100, description="the user's id on WeCom, DingTalk or Feishu, for @-mentions")]
UserName = Annotated[str, PathParameter(max_length=100, description="the user's name")]


class Away(Struct):
    """On leave in [from, to): routing passes them by."""

    from_: Time = msgspec.field(name="from")
    to: Time


class User(Struct):
    name: str
    display_name: str
    role: RoleName
    teams: list[str]
    away: Away | None
    disabled: bool
    language: Language
    # Their own shifts, as a team's (docs/teams.md); null: their teams' shifts.
    shifts: dict[str, Any] | None = None
    # Their addresses on the notification channels: email, and IM user ids for @-mentions.
    email: str | None = None
    wecom_id: str | None = None
    dingtalk_id: str | None = None
    feishu_id: str | None = None


class UserList(Struct):
    items: list[User]


class UserIn(Struct):
    name: Name
    role: RoleName
    display_name: DisplayName | None = None
    teams: UserNames = []
    # Without one the user cannot sign in to the console until a password is set (PATCH, or the CLI).
    password: Password | None = None
    language: Language = LANGUAGES[0]
    email: Email | None = None
    wecom_id: ImId | None = None
    dingtalk_id: ImId | None = None
    feishu_id: ImId | None = None


class UserChange(Struct):
    """Any of these; `teams` replaces the user's teams, `away: null` marks them back, `disabled: false` enables them again."""

    display_name: DisplayName | UnsetType = UNSET
    role: RoleName | UnsetType = UNSET
    teams: UserNames | UnsetType = UNSET
    away: Away | UnsetType | None = UNSET
    shifts: Annotated[dict[str, Any], Meta(max_length=9)] | UnsetType | None = UNSET
    disabled: bool | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    wecom_id: ImId | UnsetType | None = UNSET
    dingtalk_id: ImId | UnsetType | None = UNSET
    feishu_id: ImId | UnsetType | None = UNSET


def user_out(view: UserView) -> User:
    person = view.person
    away = None
    if person.away_from is not None and person.away_to is not None:
        away = Away(from_=format_time(person.away_from), to=format_time(person.away_to))
    return User(
        person.name,
        person.display_name,
        person.role,
        list(view.teams),
        away,
        person.disabled,
        person.language,
        person.shifts,
        person.email,
        person.wecom_id,
        person.dingtalk_id,
        person.feishu_id,
    )


def _time(text: str, field: str):
    try:
        return parse_time(text)
    except ValueError as error:
        raise InvalidData(field, str(error)) from None


def _changes(data: UserChange) -> dict:
    changes = given(data)
    if isinstance(data.away, Away):
        changes["away"] = (_time(data.away.from_, "away.from"), _time(data.away.to, "away.to"))
    return changes


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", summary="Every user of the directory, with their teams; no secrets", responses=problems(400))
    async def list_users(self, users: NamedDependency[Users]) -> UserList:
        return UserList(items=[user_out(view) for view in await users.all()])

    @get("/{name:str}", summary="One user, with their teams; no secrets", responses=problems(400, 404, 422))
    async def get_user(self, name: UserName, users: NamedDependency[Users]) -> User:
        view = await users.one(name)
        if view is None:
            raise NotFoundException(f"no user named {name!r}")
        return user_out(view)

    @post("/", guards=[managers_only], status_code=201, summary="Add a user (managers)", responses=problems(400, 403, 413, 422))
    async def add_user(self, request: Request, data: JSONBody[UserIn], users: NamedDependency[Users]) -> User:
        addresses = {key: getattr(data, key) for key in ADDRESS_FIELDS if getattr(data, key) is not None}
        new = NewUser(data.name, data.role, data.display_name, tuple(data.teams), data.password, data.language, addresses)
        return user_out(await users.add(request.user.name, new))

    @patch(
        "/{name:str}",
        guards=[managers_only],
        summary="Change a user (managers): display name, role, teams, leave, disabled, password",
        responses=problems(400, 403, 404, 413, 422),
    )
    async def change_user(self, request: Request, name: UserName, data: JSONBody[UserChange], users: NamedDependency[Users]) -> User:
        try:
            return user_out(await users.change(request.user.name, name, _changes(data)))
        except LookupError:
            raise NotFoundException(f"no user named {name!r}") from None
