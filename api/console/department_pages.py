"""The department's set-up in the console: users and teams. Supervisors read the teams; only managers
read the users and change anything. Every change goes through the directory and the department's
services, which log it; a refusal is shown beside the field it names, with what was typed kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter

from api.console.case_pages import person_label
from api.console.forms import Choice, FormField
from api.console.render import TEAM_READERS, clock_for, language_of, page
from api.console.session import csrf_checked
from api.console.shift_lines import ShiftLinesError, shift_lines, shifts_of
from api.console.sign_in_pages import see_other
from api.labels import label
from service.teams import MEMBER_ROLES, is_away_now
from service.users import NewUser
from states.errors import InvalidData
from states.vocabulary import SUPERVISING_ROLES, AssignmentMethod, RefusalCode, Role

Name = Annotated[str, PathParameter(max_length=100)]
TEAM_FIELDS = ("name", "site", "assignment", "supervisors", "members", "shifts")


async def may_read_teams(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in TEAM_READERS:
        raise PermissionDeniedException("only supervisors and managers read the department's teams")


def may_manage(request: Request) -> None:
    """Managers alone change the department, whatever a page shows."""
    if request.user.role != Role.MANAGER:
        raise PermissionDeniedException("only managers change users, teams and routing")


def field_error(error: InvalidData) -> tuple[str, str, int | None]:
    """`members[2]` → ("members", code, 2): the form field a refusal is shown beside, and which item."""
    name, _, rest = error.field.partition("[")
    index = int(rest.split("]")[0]) if rest[:1].isdigit() else None
    return name.split(".")[0], error.code, index


class DepartmentPages(Controller):
    path = "/ui/department"
    guards = [csrf_checked, may_read_teams]
    include_in_schema = False

    # --- users ------------------------------------------------------------------------------------

    @get("/users")
    async def users(self, request: Request) -> Response:
        may_manage(request)
        return await self._users(request, {}, {})

    @post("/users")
    async def add_user(self, request: Request) -> Response:
        may_manage(request)
        form = await request.form()
        values = {key: _text(form, key) for key in ("name", "display_name", "role")}
        teams = _list(form, "teams")
        new = NewUser(values["name"], values["role"], values["display_name"] or None, tuple(teams), _text(form, "password", strip=False))
        try:
            await request.app.state.users.add(request.user.name, new)
        except InvalidData as refused:
            return await self._users(request, {**values, "teams": teams}, _errors(refused, teams), status_code=422)
        return see_other("/ui/department/users", request)

    async def _users(self, request: Request, values: dict[str, Any], errors: dict[str, Any], status_code: int = 200) -> Response:
        department = request.app.state.department
        now = datetime.now(UTC)
        rows = [
            {
                "person": user.person,
                "teams": user.teams,
                "away": (user.person.away_from, user.person.away_to),
                "away_now": is_away_now(user.person.away_from, user.person.away_to, now),
            }
            for user in await request.app.state.users.all()
        ]
        language = language_of(request)
        teams = _choices(await department.team_names())
        fields = [
            _field(language, "name", "text", True),
            _field(language, "display_name", "text", False),
            _field(language, "role", "select", True, _role_choices(language)),
            _field(language, "password", "password", True),
            _field(language, "teams", "multiple", False, teams),
        ]
        return page(request, "users.html", status_code, rows=rows, fields=fields, values={"teams": [], **values}, errors=errors)

    @get("/users/{name:str}")
    async def user(self, request: Request, name: Name) -> Response:
        may_manage(request)
        return await self._user(request, name, None, {})

    @post("/users/{name:str}")
    async def change_user(self, request: Request, name: Name) -> Response:
        may_manage(request)
        form = await request.form()
        teams = _list(form, "teams")
        role, disabled = _text(form, "role"), "disabled" in form
        values = {"role": role, "teams": teams, "disabled": disabled}
        changes = {"teams": teams, "disabled": disabled, **({"role": role} if role else {})}
        try:
            await request.app.state.users.change(request.user.name, name, changes)
        except LookupError:
            raise NotFoundException(f"no user {name!r}") from None
        except InvalidData as refused:
            return await self._user(request, name, values, _errors(refused, teams), status_code=422)
        return see_other(f"/ui/department/users/{name}", request)

    @post("/users/{name:str}/away")
    async def set_away(self, request: Request, name: Name) -> Response:
        may_manage(request)
        form = await request.form()
        department = request.app.state.department
        if "back" in form:
            away_from = away_to = None
        else:
            zone = clock_for(request).zone
            away_from, away_to = _moment(form, "away_from", zone), _moment(form, "away_to", zone)
        values = {"away_from": _text(form, "away_from"), "away_to": _text(form, "away_to")}
        try:
            if "back" not in form and (away_from is None or away_to is None):
                raise InvalidData("away_from" if away_from is None else "away_to", "is required", RefusalCode.MISSING_FIELD)
            await department.set_away(request.user.name, name, away_from, away_to)
        except LookupError:
            raise NotFoundException(f"no user {name!r}") from None
        except InvalidData as refused:
            field = "away_to" if refused.field == "away.to" else refused.field if refused.field.startswith("away_") else "away_from"
            return await self._user(request, name, values, {field: {"code": refused.code, "item": None}}, status_code=422)
        return see_other(f"/ui/department/users/{name}", request)

    async def _user(self, request: Request, name: str, values: dict[str, Any] | None, errors: dict[str, Any], status_code: int = 200) -> Response:
        user = await request.app.state.users.one(name)
        if user is None:
            raise NotFoundException(f"no user {name!r}")
        person = user.person
        clock = clock_for(request)
        current = {
            "role": person.role,
            "teams": list(user.teams),
            "disabled": person.disabled,
            "away_from": clock.local_input(person.away_from),
            "away_to": clock.local_input(person.away_to),
        }
        language = language_of(request)
        return page(
            request,
            "user.html",
            status_code,
            person=person,
            away=(person.away_from, person.away_to),
            away_now=is_away_now(person.away_from, person.away_to, datetime.now(UTC)),
            fields=[
                _field(language, "role", "select", True, _role_choices(language)),
                _field(language, "teams", "multiple", False, _choices(await request.app.state.department.team_names())),
                _field(language, "disabled", "checkbox", False),
            ],
            away_fields=[_field(language, "away_from", "datetime", True), _field(language, "away_to", "datetime", True)],
            values={**current, **(values or {})},
            errors=errors,
        )

    # --- teams ------------------------------------------------------------------------------------

    @get("/teams")
    async def teams(self, request: Request) -> Response:
        teams = await request.app.state.department.teams()
        by_site: dict[str, list] = {}
        for team in teams:
            by_site.setdefault(team.site, []).append({"team": team, "shifts": shift_lines(team.shifts)})
        return page(request, "teams.html", by_site=by_site)

    @get("/teams/new")
    async def new_team(self, request: Request) -> Response:
        may_manage(request)
        values = {"assignment": AssignmentMethod.ROUND_ROBIN, "supervisors": [], "members": []}
        return await self._team_form(request, None, values, {})

    @post("/teams/new")
    async def add_team(self, request: Request) -> Response:
        may_manage(request)
        values, data, errors = _team_submission(await request.form(), creating=True)
        if not errors:
            try:
                await request.app.state.department.add_team(request.user.name, data)
            except InvalidData as refused:
                errors = _errors(refused, values.get(field_error(refused)[0]))
        if errors:
            return await self._team_form(request, None, values, errors, status_code=422)
        return see_other("/ui/department/teams", request)

    @get("/teams/{name:str}")
    async def team(self, request: Request, name: Name) -> Response:
        may_manage(request)
        team = await request.app.state.department.team(name)
        if team is None:
            raise NotFoundException(f"no team {name!r}")
        values = {**team.as_dict(), "supervisors": list(team.supervisors), "members": list(team.members), "shifts": shift_lines(team.shifts)}
        return await self._team_form(request, name, values, {})

    @post("/teams/{name:str}")
    async def change_team(self, request: Request, name: Name) -> Response:
        may_manage(request)
        values, data, errors = _team_submission(await request.form(), creating=False)
        if not errors:
            try:
                await request.app.state.department.change_team(request.user.name, name, data)
            except LookupError:
                raise NotFoundException(f"no team {name!r}") from None
            except InvalidData as refused:
                errors = _errors(refused, values.get(field_error(refused)[0]))
        if errors:
            return await self._team_form(request, name, {**values, "name": name}, errors, status_code=422)
        return see_other("/ui/department/teams", request)

    async def _team_form(
        self, request: Request, name: str | None, values: dict[str, Any], errors: dict[str, Any], status_code: int = 200
    ) -> Response:
        people = [person for person in await request.app.state.directory.people() if not person.disabled]
        language = language_of(request)

        def people_in(roles: tuple[str, ...]) -> tuple[Choice, ...]:
            return tuple(Choice(person.name, person_label(person.name, person.display_name)) for person in people if person.role in roles)

        methods = tuple(Choice(method, label(language, "assignment_method", method)) for method in AssignmentMethod)
        fields = [
            *([] if name else [_field(language, "team_name", "text", True, name="name")]),
            _field(language, "site", "text", True),
            _field(language, "assignment", "select", True, methods),
            _field(language, "supervisors", "multiple", False, people_in(SUPERVISING_ROLES)),
            _field(language, "members", "multiple", False, people_in(MEMBER_ROLES)),
            _field(language, "shifts", "lines", False),
        ]
        return page(
            request,
            "team_form.html",
            status_code,
            editing=name,
            fields=fields,
            values=values,
            errors=errors,
        )


def _field(language: str, key: str, widget: str, required: bool, choices: tuple[Choice, ...] = (), name: str | None = None) -> FormField:
    """A field of the department's forms, labelled from the catalog's `console` words (`field_<key>`)."""
    return FormField(name or key, label(language, "console", f"field_{key}"), widget, required, choices, max_length=None if widget != "text" else 100)


def _choices(names: list[str]) -> tuple[Choice, ...]:
    return tuple(Choice(name, name) for name in names)


def _role_choices(language: str) -> tuple[Choice, ...]:
    return tuple(Choice(role, label(language, "role", role)) for role in Role)


def _team_submission(form: FormMultiDict, creating: bool) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What the team form typed (to show again), the data for the department, and what could not be read."""
    values: dict[str, Any] = {
        "name": _text(form, "name"),
        "site": _text(form, "site"),
        "assignment": _text(form, "assignment"),
        "supervisors": _list(form, "supervisors"),
        "members": _list(form, "members"),
        "shifts": _text(form, "shifts", strip=False),
    }
    data = {key: values[key] for key in TEAM_FIELDS if key != "shifts" and (creating or key != "name")}
    errors: dict[str, Any] = {}
    try:
        data["shifts"] = shifts_of(values["shifts"])
    except ShiftLinesError as unreadable:
        errors["shifts"] = {"code": RefusalCode.WRONG_TYPE, "item": unreadable.line}
    return values, data, errors


def _errors(refused: InvalidData, items: Any) -> dict[str, Any]:
    """The refusal beside its field, with the item it names (`members[2]` → the third name typed)."""
    field, code, index = field_error(refused)
    item = items[index] if index is not None and isinstance(items, list) and index < len(items) else None
    return {field: {"code": code, "item": item}}


def _text(form: FormMultiDict, key: str, strip: bool = True) -> str:
    value = form.get(key, "")
    value = value if isinstance(value, str) else ""
    return value.strip() if strip else value


def _list(form: FormMultiDict, key: str) -> list[str]:
    return [value.strip() for value in form.getall(key, []) if isinstance(value, str) and value.strip()]


def _moment(form: FormMultiDict, key: str, zone) -> datetime | None:
    """A datetime-local input: the department's wall time."""
    text = _text(form, key)
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment is not None and moment.tzinfo is None else moment
