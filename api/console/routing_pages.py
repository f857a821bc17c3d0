"""分派规则: the department's routing rules as one form, a row a rule, first match wins. Rows are
added (the blank row at the end), removed (删除) and reordered (序号) without any script; the
department's service checks the whole list and names the rule and field it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict

from api.console.department_pages import may_manage, may_read_teams
from api.console.render import page
from api.console.session import csrf_checked
from api.console.sign_in_pages import see_other
from states.errors import InvalidData
from states.routing import MATCH_KEYS, MAX_RULES
from states.spec import CASE_CATEGORIES, PRIORITIES
from states.vocabulary import Kind, RefusalCode

VIP_CHOICES = ("true", "false")


@dataclass
class RuleRow:
    """One row of the form as typed: its matchers, team, place and whether to remove it."""

    order: str = ""
    match: dict[str, str] = field(default_factory=dict)
    team: str = ""
    remove: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def is_blank(self) -> bool:
        return not self.team and not any(self.match.values())

    def as_rule(self) -> dict[str, Any]:
        match: dict[str, Any] = {key: value for key, value in self.match.items() if value}
        if "vip" in match:
            match["vip"] = match["vip"] == "true"
        return {"match": match, "team": self.team}


class RoutingPages(Controller):
    path = "/ui/department/routing"
    guards = [csrf_checked, may_read_teams]
    include_in_schema = False

    @get("/")
    async def routing(self, request: Request) -> Response:
        may_manage(request)
        routing = await request.app.state.department.routing()
        rows = [
            RuleRow(str(index + 1), {key: _shown(rule.match.get(key)) for key in MATCH_KEYS}, rule.team) for index, rule in enumerate(routing.rules)
        ]
        return await self._form(request, rows, routing.default_team or "", None)

    @post("/")
    async def set_routing(self, request: Request) -> Response:
        may_manage(request)
        form = await request.form()
        rows = _rows(form)
        default_team = _text(form, "default_team")
        kept = sorted((row for row in rows if not row.remove and not row.is_blank()), key=lambda row: (_order(row.order), rows.index(row)))
        data = {"rules": [row.as_rule() for row in kept], "default_team": default_team or None}
        try:
            await request.app.state.department.set_routing(request.user.name, data)
        except InvalidData as refused:
            default_error = _place(refused, kept)
            return await self._form(request, rows, default_team, default_error, status_code=422)
        return see_other("/ui/department/routing", request)

    async def _form(self, request: Request, rows: list[RuleRow], default_team: str, default_error: str | None, status_code: int = 200) -> Response:
        shown = [row for row in rows if not row.is_blank() or row.errors]
        if len(shown) < MAX_RULES:
            shown.append(RuleRow(str(len(shown) + 1), {key: "" for key in MATCH_KEYS}))
        return page(
            request,
            "routing.html",
            status_code,
            rows=shown,
            default_team=default_team,
            default_error=default_error,
            teams=await request.app.state.department.team_names(),
            kinds=list(Kind),
            categories=CASE_CATEGORIES,
            priorities=PRIORITIES,
            vip_choices=VIP_CHOICES,
        )


def _rows(form: FormMultiDict) -> list[RuleRow]:
    count = _order(_text(form, "rule_count"))
    rows = []
    for index in range(count if count <= MAX_RULES + 1 else 0):
        prefix = f"rules-{index}-"
        match = {key: _text(form, prefix + key) for key in MATCH_KEYS}
        rows.append(RuleRow(_text(form, prefix + "order"), match, _text(form, prefix + "team"), (prefix + "remove") in form))
    return rows


def _place(refused: InvalidData, kept: list[RuleRow]) -> str | None:
    """Puts the refusal beside the row and field it names (`rules[1].match.kind`); one about the
    default team, or the list as a whole, is returned for the page."""
    if not refused.field.startswith("rules["):
        return refused.code if refused.field == "default_team" else RefusalCode.INVALID_VALUE
    index_text, _, rest = refused.field.removeprefix("rules[").partition("]")
    if not index_text.isdigit() or int(index_text) >= len(kept):
        return refused.code
    key = rest.removeprefix(".").removeprefix("match.").split(".")[0] or "team"
    kept[int(index_text)].errors[key if key in (*MATCH_KEYS, "team") else "team"] = refused.code
    return None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _order(text: str) -> int:
    return int(text) if text.isdigit() and len(text) < 7 else 10**6


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key, "")
    return value.strip()[:200] if isinstance(value, str) else ""
