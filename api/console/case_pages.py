"""A case's page, its action forms, and the report form of a new case.

Every change goes through the same service as the JSON API (service/cases.py), with the form's own
request id as the idempotency key: a form sent twice changes the case once.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import PathParameter, QueryParameter

from api.audit import AUDITING_ROLES, may_audit
from api.console.badges import case_badges
from api.console.display import Known
from api.console.forms import NOTE, Choice, FormField, form_fields, prefilled_values, read_form, report_basics
from api.console.live_pages import live_start
from api.console.render import clock_for, language_of, page, viewer_of
from api.console.session import csrf_checked
from api.console.sign_in_pages import Form, see_other
from service.cases import CaseRefused
from states.case import Actor
from states.errors import CaseRuleError, InvalidData
from states.machine import KINDS, declared_action, describe, spec_for
from states.opening import Report
from states.ownership import named_for
from states.spec import PHASES, TEAM, USER
from states.vocabulary import SYSTEM, Kind, Priority, RefusalCode, Role
from workflows.inputs import ActInput

CaseId = Annotated[str, PathParameter(max_length=64)]
ActionName = Annotated[str, PathParameter(max_length=64)]
MAX_REQUEST_ID = 100


def may_change(request: Request) -> None:
    """Auditors read everything and change nothing, whatever they send; quality reviewers change no case."""
    if request.user.role == Role.AUDITOR:
        raise PermissionDeniedException("auditors may read but not change cases")
    if request.user.role == Role.QUALITY:
        raise PermissionDeniedException("quality reviewers score cases but do not change them")


def _actor(request: Request) -> Actor:
    return Actor(name=request.user.name, role=request.user.role)


class CasePages(Controller):
    path = "/ui/cases"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/new")
    async def new_case_form(self, request: Request, kind: Annotated[str | None, QueryParameter(max_length=64)] = None) -> Response:
        may_change(request)
        chosen = kind if kind in KINDS and request.user.role in spec_for(kind).create_roles else None
        return self._report_form(request, chosen or Kind.COMPLAINT, {"priority": Priority.NORMAL}, {}, None)

    @post("/new")
    async def open_case(self, request: Request, data: Form) -> Response:
        may_change(request)
        kind = data.get("kind", "")
        if kind not in KINDS:
            raise NotFoundException(f"no kind {kind!r}")
        fields = report_form(kind, request)
        submission = read_form(fields, data, clock_for(request))
        if submission.errors:
            return self._report_form(request, kind, data, submission.errors, None, status_code=422)
        basics = {
            name: submission.data.pop(name, None) for name in ("title", "description", "priority", "customer_name", "customer_id", "customer_vip")
        }
        customer = None
        if basics["customer_name"] or basics["customer_id"]:
            customer = {"id": basics["customer_id"], "name": basics["customer_name"], "vip": bool(basics["customer_vip"])}
        report = Report(
            kind=kind,
            title=basics["title"] or "",
            description=basics["description"] or "",
            priority=basics["priority"] or Priority.NORMAL,
            customer=customer,
            channel=None,
            data=submission.data,
        )
        request_id = request_id_of(data)
        try:
            case = await request.app.state.cases.open(report, _actor(request), None, request_id)
        except (CaseRefused, CaseRuleError) as refused:
            return self._report_form(request, kind, data, *refusal_of(refused), status_code=422)
        return see_other(f"/ui/cases/{case.id}", request)

    def _report_form(self, request: Request, kind: str, values, errors, problem, status_code: int = 200) -> Response:
        kinds = [each for each in KINDS if request.user.role in spec_for(each).create_roles]
        return page(
            request,
            "new_case.html",
            status_code,
            kind=kind,
            kinds=kinds,
            fields=report_form(kind, request),
            values=values,
            errors=errors,
            problem=problem,
            request_id=uuid.uuid4().hex,
        )

    @get("/{case_id:str}")
    async def case_page(self, request: Request, case_id: CaseId) -> Response:
        after = await live_start(request)  # before reading the case, so no change falls between the two
        return page(request, "case.html", live=f"/ui/live?case_id={quote(case_id)}&after={after}", **await self._case_context(request, case_id))

    async def _case_context(self, request: Request, case_id: str) -> dict[str, Any]:
        cases = request.app.state.cases
        viewer = await viewer_of(request)
        case = viewer.seen(await cases.get(case_id))
        history = viewer.shown_events(case, await cases.history(case_id))
        role = request.user.role
        allowed = [] if role == Role.AUDITOR else mine_to_take(case, role, request.user.name)
        machine = describe(case["kind"])
        return {
            "case": case,
            "badges": case_badges(case),
            "history": list(reversed(history)),
            "actions": allowed,
            "phases": [phase for phase in PHASES if phase in machine["states"]],
            "may_audit": role in AUDITING_ROLES,
            "system_actor": SYSTEM,
            "known": Known(
                people={person.name: person_label(person.name, person.display_name) for person in await request.app.state.directory.people()},
                items={item["id"]: item["title"] for item in case.get("action_items", []) if item.get("id") and item.get("title")},
            ),
        }

    @get("/{case_id:str}/verify", guards=[may_audit])
    async def verify(self, request: Request, case_id: CaseId) -> Response:
        return page(request, "verify.html", report=await request.app.state.audit.verify(case_id))

    @get("/{case_id:str}/temporal", guards=[may_audit])
    async def temporal_history(self, request: Request, case_id: CaseId) -> Response:
        return page(request, "temporal.html", case_id=case_id, history=await request.app.state.audit.temporal_history(case_id))

    @get("/{case_id:str}/act/{action:str}")
    async def action_form(self, request: Request, case_id: CaseId, action: ActionName) -> Response:
        may_change(request)
        case = (await viewer_of(request)).seen(await request.app.state.cases.get(case_id))
        declared = declared_action(case["kind"], action)
        prefilled = prefilled_values(declared.prefill, case.get("data") or {}, clock_for(request)) if declared else {}
        return await self._action_form(request, case, action, prefilled, {}, None)

    @post("/{case_id:str}/act/{action:str}")
    async def take_action(self, request: Request, case_id: CaseId, action: ActionName, data: Form) -> Response:
        may_change(request)
        cases = request.app.state.cases
        viewer = await viewer_of(request)
        case = viewer.seen(await cases.get(case_id))
        fields = await action_form(case["kind"], action, request, case)
        submission = read_form(fields, data, clock_for(request))
        if submission.errors:
            return await self._action_form(request, case, action, data, submission.errors, None, status_code=422)
        note = (data.get("note") or "").strip() or None
        expected = _version(data.get("expected_version"))
        act = ActInput(action, _actor(request), note, submission.data, expected, request_id_of(data))
        try:
            await cases.act(case_id, act, viewer.membership)
        except (CaseRefused, CaseRuleError) as refused:
            errors, problem = refusal_of(refused)
            current = viewer.shown(await cases.get(case_id))
            return await self._action_form(request, current, action, data, errors, problem, status_code=409 if problem else 422, stale=problem)
        return see_other(f"/ui/cases/{case_id}", request)

    async def _action_form(self, request: Request, case, action: str, values, errors, problem, status_code: int = 200, stale=None) -> Response:
        if declared_action(case["kind"], action) is None:
            raise NotFoundException(f"{case['kind']} has no action {action!r}")
        # htmx swaps the form into the case page's action panel; a browser that opens the action's
        # address itself (a link, a bookmark, a form sent without script) gets the case page with it open.
        whole: dict[str, Any] = {}
        if not request.headers.get("hx-request"):
            whole = {**await self._case_context(request, case["id"]), "open_action": True}
            del whole["case"]  # the form's case, as given
        return page(
            request,
            "case.html" if whole else "action_form.html",
            status_code,
            **whole,
            case=case,
            action=action,
            fields=await action_form(case["kind"], action, request, case),
            values=values,
            errors=errors,
            problem=problem,
            # A refused form keeps the version it was made for, so sending it again is refused again
            # until the user has seen the new state.
            expected_version=values.get("expected_version") or case["version"],
            request_id=uuid.uuid4().hex,
            allowed=case.get("allowed_actions", {}).get(request.user.role, []),
        )


def mine_to_take(case: dict[str, Any], role: str, name: str) -> list[str]:
    """The actions the case offers the role, less a meeting's host's or recorder's when this agent is neither."""
    offered = case.get("allowed_actions", {}).get(role, [])
    return [
        action for action in offered if (declared := declared_action(case["kind"], action)) is None or named_for(declared, case["data"], role, name)
    ]


def report_form(kind: str, request: Request) -> list[FormField]:
    language = language_of(request)
    return form_fields(report_basics(kind) + spec_for(kind).report_fields, language)


async def action_form(kind: str, action: str, request: Request, case: dict[str, Any] | None = None) -> list[FormField]:
    declared = declared_action(kind, action)
    if declared is None:
        raise NotFoundException(f"{kind} has no action {action!r}")
    # The id of a case the action opens is the workflow's to fill in, unless the user may name one to join.
    filled_in = declared.opens.id_field if declared.opens and not declared.opens.may_join_open else None
    fields = tuple(field for field in declared.fields if field.name != filled_in)
    named = await named_choices(request) if any(field.names in (USER, TEAM) for field in fields) else {}
    return form_fields((*fields, NOTE), language_of(request), case, named)


async def named_choices(request: Request) -> dict[str, tuple[Choice, ...]]:
    """Whom an owner field may name (the directory's enabled users and those of CASEWORK_USERS), and
    which teams a team field may: the service refuses any other name."""
    everyone = await request.app.state.directory.people()
    # Auditors own no cases and no action items: they read, and change nothing.
    people = [person for person in everyone if not person.disabled and person.role != Role.AUDITOR]
    listed = {person.name for person in everyone}
    configured = sorted(user.name for user in request.app.state.settings.users if user.name not in listed and user.role != Role.AUDITOR)
    users = tuple(Choice(person.name, person_label(person.name, person.display_name)) for person in people)
    teams = tuple(Choice(name, name) for name in await request.app.state.department.team_names())
    return {USER: users + tuple(Choice(name, name) for name in configured), TEAM: teams}


def person_label(name: str, display_name: str) -> str:
    return name if display_name == name else f"{display_name} ({name})"


def request_id_of(data: dict[str, str]) -> str:
    given = (data.get("request_id") or "").strip()
    return given if 0 < len(given) <= MAX_REQUEST_ID and given.isalnum() else uuid.uuid4().hex


def _version(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def refusal_of(refused: Exception) -> tuple[dict[str, str], dict[str, Any] | None]:
    """Field errors (field name → refusal code), or a refusal of the whole form (its code and details)."""
    if isinstance(refused, InvalidData):
        return {_field(refused.field): refused.code}, None
    details = refused.details if isinstance(refused, CaseRefused) else {}
    code = str(details.get("code") or getattr(refused, "code", RefusalCode.REFUSED))
    if isinstance(refused, CaseRefused) and refused.kind == "InvalidData" and details.get("field"):
        return {_field(details["field"]): code}, None
    return {}, {"code": code, "detail": str(refused), **details}


def _field(path: str) -> str:
    """`data.findings` → `findings`; `title` stays."""
    return path.removeprefix("data.").split("[")[0].split(".")[0]
