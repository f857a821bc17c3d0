"""Quality checks (质检) in the console: the reviewer's queue (质检队列), a check's page with the
scoring form beside the case's history, the agent's own scorecard (我的质检) with the appeal form
(申诉), and the supervisor's decision form. Every change goes through service/quality.py, as the
JSON API's does; a refused form comes back with the message beside the field and the input kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import PathParameter

from api.auth import may_change_checks
from api.console.case_pages import person_label
from api.console.render import QUALITY_QUEUE_ROLES, clock_for, page, viewer_of
from api.console.session import csrf_checked
from api.console.sign_in_pages import Form, see_other
from service.cases import CaseNotFound, CaseRefused
from service.quality import MAX_SAMPLE_PERIOD, CheckNotFound, QualityChecks
from service.quality_store import CheckFilter
from states.case import Actor, parse_time
from states.errors import CaseRuleError, InvalidData
from states.quality import DECIDERS, SCORERS, Check, CheckStatus, check_from_snapshot
from states.sampling import week_before
from states.scorecard import MAX_TEXT, Rubric
from states.vocabulary import SUPERVISING_ROLES, SYSTEM, RefusalCode, Role

CheckId = Annotated[str, PathParameter(max_length=100)]


def _checks(request: Request) -> QualityChecks:
    return request.app.state.quality


def _actor(request: Request) -> Actor:
    return Actor(request.user.name, request.user.role)


async def _listed(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A list of checks with what shows them: the cases' titles and people's names as the forms show them."""
    return {"items": items, "titles": await _checks(request).case_titles(items), "names": await _names(request)}


async def _names(request: Request) -> dict[str, str]:
    return {person.name: person_label(person.name, person.display_name) for person in await request.app.state.directory.people()}


def _may_work_the_queue(request: Request) -> None:
    if request.user.role not in QUALITY_QUEUE_ROLES:
        raise PermissionDeniedException("only quality reviewers, supervisors and auditors work the quality queue")


class QualityPages(Controller):
    path = "/ui/quality"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/")
    async def queue(self, request: Request) -> Response:
        _may_work_the_queue(request)
        status = request.query_params.get("status") or None
        status = status if status in set(CheckStatus) else None
        mine_only = request.user.role == Role.QUALITY and request.query_params.get("all") is None
        where = CheckFilter(reviewer=request.user.name if mine_only else None, status=status)
        items = await _checks(request).find(where, _actor(request))
        listed = await _listed(request, items)
        return page(request, "quality_queue.html", status=status, statuses=list(CheckStatus), mine_only=mine_only, **listed, **_sample_form(request))

    @get("/mine")
    async def mine(self, request: Request) -> Response:
        items = await _checks(request).find(CheckFilter(agent=request.user.name), _actor(request))
        return page(request, "quality_mine.html", **await _listed(request, items))

    @post("/samples")
    async def sample(self, request: Request, data: Form) -> Response:
        if request.user.role not in SUPERVISING_ROLES:
            raise PermissionDeniedException("only supervisors and managers draw a sample")
        zone = clock_for(request).zone
        errors, days = {}, {}
        for name in ("from", "to"):
            try:
                days[name] = date.fromisoformat((data.get(name) or "").strip())
            except ValueError:
                errors[name] = "quality_error_date"
        if not errors and days["from"] > days["to"]:
            errors["to"] = "quality_error_period"
        if not errors and (days["to"] - days["from"]).days >= MAX_SAMPLE_PERIOD.days:
            errors["to"] = "quality_error_period_too_long"
        if not errors:
            try:
                start = datetime.combine(days["from"], time(), zone)
                end = datetime.combine(days["to"] + timedelta(days=1), time(), zone)
                already = await _checks(request).checked_count(start, end)
                made = await _checks(request).sample(start.astimezone(UTC), end.astimezone(UTC), _actor(request))
                return see_other(f"/ui/quality?made={len(made)}&already={already}&from={days['from']}&to={days['to']}", request)
            except OverflowError:
                errors["to"] = "quality_error_date"
            except InvalidData as refused:
                errors[refused.field] = "quality_error_period_too_long" if refused.field == "to" else "quality_error_period"
        listed = await _listed(request, await _checks(request).find(CheckFilter(), _actor(request)))
        context = _sample_form(request, data, errors)
        return page(request, "quality_queue.html", 422, status=None, statuses=list(CheckStatus), mine_only=False, **listed, **context)

    @get("/checks/{check_id:str}")
    async def check_page(self, request: Request, check_id: CheckId) -> Response:
        return await self._check_page(request, check_id, {}, {}, None)

    @post("/checks/{check_id:str}/score", guards=[may_change_checks])
    async def score(self, request: Request, check_id: CheckId, data: Form) -> Response:
        checks = _checks(request)
        check = await self._readable(request, check_id)
        items, reasons, errors = _points(checks.rubric_of(check), data)
        errors |= _too_long(data, "comment")
        if not errors:
            try:
                await checks.score(check_id, _actor(request), items, reasons, _text(data, "comment"))
                return see_other(f"/ui/quality/checks/{check_id}", request)
            except (CaseRefused, CaseRuleError) as refused:
                errors, problem = _refusal(refused)
                return await self._check_page(request, check_id, data, errors, problem, 409 if problem else 422)
        return await self._check_page(request, check_id, data, errors, None, 422)

    @post("/checks/{check_id:str}/appeal", guards=[may_change_checks])
    async def appeal(self, request: Request, check_id: CheckId, data: Form) -> Response:
        errors = _too_long(data, "reason")
        if errors:
            return await self._check_page(request, check_id, data, errors, None, 422)
        return await self._change(request, check_id, data, lambda: _checks(request).appeal(check_id, _actor(request), _text(data, "reason") or ""))

    @post("/checks/{check_id:str}/decide", guards=[may_change_checks])
    async def decide(self, request: Request, check_id: CheckId, data: Form) -> Response:
        checks = _checks(request)
        upheld = data.get("upheld") == "true"
        check = await self._readable(request, check_id)
        items, reasons, errors = (None, None, {}) if upheld else _points(checks.rubric_of(check), data)
        errors |= _too_long(data, "comment")
        if reasons:
            # The form shows the reviewer's reasons: only one the supervisor rewrote is new.
            earlier = {d["item"]: d["reason"] for d in check["deductions"] if not d.get("automatic")}
            reasons = {item: reason for item, reason in reasons.items() if reason != earlier.get(item)}
        if errors:
            return await self._check_page(request, check_id, data, errors, None, 422)
        return await self._change(
            request, check_id, data, lambda: checks.decide(check_id, _actor(request), upheld, _text(data, "comment") or "", items, reasons)
        )

    async def _change(self, request: Request, check_id: str, data: Form, change) -> Response:
        try:
            await change()
        except (CaseRefused, CaseRuleError) as refused:
            errors, problem = _refusal(refused)
            return await self._check_page(request, check_id, data, errors, problem, 409 if problem else 422)
        return see_other(f"/ui/quality/checks/{check_id}", request)

    async def _readable(self, request: Request, check_id: str) -> dict[str, Any]:
        try:
            return await _checks(request).get(check_id, _actor(request))
        except CheckNotFound:
            raise NotFoundException(f"no quality check {check_id}") from None

    async def _check_page(self, request: Request, check_id: str, values, errors, problem, status_code: int = 200) -> Response:
        checks = _checks(request)
        actor = _actor(request)
        check = await self._readable(request, check_id)
        try:
            viewer = await viewer_of(request)
            case = viewer.seen(await request.app.state.cases.get(check["case_id"]))
            history = list(reversed(viewer.shown_events(case, await request.app.state.cases.history(check["case_id"]))))
        except CaseNotFound:
            case, history = None, []
        return page(
            request,
            "quality_check.html",
            status_code,
            check=check,
            deductions=check["deductions"] or check["automatic"],
            given_reasons={d["item"]: d["reason"] for d in check["deductions"] if not d.get("automatic")},
            case=case,
            history=history,
            check_history=await checks.history(check_id, actor),
            names=await _names(request),
            rubric=checks.rubric_of(check),
            may_score=_may_score(check_from_snapshot(check), actor),
            may_appeal=_may_appeal(check_from_snapshot(check), actor),
            may_decide=check["status"] == CheckStatus.APPEALED and actor.role in DECIDERS,
            values=values,
            errors=errors,
            problem=problem,
            system_actor=SYSTEM,
        )


def _may_score(check: Check, actor: Actor) -> bool:
    return check.status == CheckStatus.SAMPLED and actor.role in SCORERS and actor.name != check.agent


def _may_appeal(check: Check, actor: Actor) -> bool:
    in_time = check.appeal_until is not None and datetime.now(UTC) < parse_time(check.appeal_until)
    return check.status == CheckStatus.SCORED and check.appeal is None and actor.name == check.agent and in_time


def _sample_form(request: Request, values: Any = None, errors: Any = None) -> dict[str, Any]:
    """The sampling form, for supervisors: by default the department's last whole week."""
    start, end = week_before(datetime.now(UTC), clock_for(request).zone)
    defaults = {"from": start.date().isoformat(), "to": (end.date() - timedelta(days=1)).isoformat()}
    just_sampled = {name: request.query_params[name] for name in ("from", "to") if request.query_params.get(name)}
    return {
        "may_sample": request.user.role in SUPERVISING_ROLES,
        "sample_values": values or just_sampled or defaults,
        "sample_errors": errors or {},
        "made": request.query_params.get("made"),
        "already": request.query_params.get("already"),
    }


def _text(data: Form, name: str) -> str | None:
    return (data.get(name) or "").strip() or None


def _too_long(data: Form, *names: str) -> dict[str, str]:
    """Text longer than a check takes, refused beside its field (never cut silently)."""
    return {name: "quality_error_too_long" for name in names if len(_text(data, name) or "") > MAX_TEXT}


def _points(rubric: Rubric, data: Form) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The form's points and reasons per item; errors (field → message key) for what is not a number
    or too long, every one of them."""
    items, reasons, errors = {}, {}, {}
    for item in rubric.items:
        raw = (data.get(f"items.{item.id}") or "").strip()
        try:
            items[item.id] = int(raw)
        except ValueError:
            errors[f"items.{item.id}"] = "quality_error_points"
        reason = _text(data, f"reasons.{item.id}")
        if reason:
            reasons[item.id] = reason
        errors |= _too_long(data, f"reasons.{item.id}")
    return items, reasons, errors


# The message beside a field the check's rules refused, by the field's kind.
FIELD_MESSAGES = {
    "items": "quality_error_points",
    "reasons": "quality_error_reason",
    "reason": "quality_error_appeal_reason",
    "comment": "quality_error_comment",
}


def _refusal(refused: Exception) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Field errors (field → message key), or a refusal of the whole form (its code)."""
    field = refused.field if isinstance(refused, InvalidData) else (refused.details.get("field") if isinstance(refused, CaseRefused) else None)
    if field:
        kind = field.split(".")[0]
        key = "quality_error_items_needed" if field == "items" else FIELD_MESSAGES.get(kind, "quality_error_points")
        return {field: key}, None
    details = refused.details if isinstance(refused, CaseRefused) else {}
    return {}, {"code": str(details.get("code") or getattr(refused, "code", RefusalCode.REFUSED))}
