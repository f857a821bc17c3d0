"""考核 in the console: the supervisor's list by period and an agent's assessment (figures against
targets, the score and comment form, 定稿, the coaching plan), the agent's own (我的考核, 自评) and
the team-mates' peer score (互评). Every change goes through service/assessments.py, as over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import PathParameter

from api.coaching_words import coaching_words
from api.console.case_pages import person_label
from api.console.figures import Figures
from api.console.forms import FormField
from api.console.render import clock_for, language_of, page
from api.console.session import csrf_checked
from api.console.sign_in_pages import see_other
from api.labels import label
from service.assessments import AssessmentNotFound, Assessments
from service.coaching import open_coaching
from states.assessment import shown_percentages
from states.assessment_periods import CADENCES, period_before
from states.case import Actor
from states.errors import CaseRuleError, InvalidData
from states.vocabulary import SUPERVISING_ROLES, AssessmentPart, AssessmentStatus, RefusalCode, Role

AssessmentId = Annotated[str, PathParameter(max_length=200)]
ChangeName = Annotated[str, PathParameter(max_length=20)]
PERIOD_TEXT = 16
CONFIRMED = "yes"  # the 定稿 form's second step


def _actor(request: Request) -> Actor:
    return Actor(request.user.name, request.user.role)


class AssessmentPages(Controller):
    path = "/ui/assessments"
    guards = [csrf_checked]
    include_in_schema = False

    @get("/")
    async def list_page(self, request: Request) -> Response:
        period = (request.query_params.get("period") or "").strip()[:PERIOD_TEXT] or None
        assessments: Assessments = request.app.state.assessments
        actor = _actor(request)
        try:
            items = await assessments.find(actor, None, period)
        except InvalidData:
            items, period = [], None
        peers = await assessments.peer_candidates(actor) if actor.role == Role.AGENT else []
        return page(
            request,
            "assessments.html",
            items=items,
            peers=peers,
            period=period or "",
            cadences=CADENCES,
            supervises=actor.role in SUPERVISING_ROLES,
            heading="nav_my_assessments" if actor.role == Role.AGENT else "nav_assessments",
            kpi_label=Figures(clock_for(request)).kpi_label,
            names=await _display_names(request),
        )

    @post("/")
    async def make(self, request: Request) -> Response:
        form = await request.form()
        cadence = form.get("cadence")
        actor = _actor(request)
        if actor.role not in SUPERVISING_ROLES:
            raise PermissionDeniedException("only supervisors and managers may make assessments")
        if cadence not in CADENCES:
            return see_other("/ui/assessments", request)
        assessments: Assessments = request.app.state.assessments
        period = period_before(datetime.now(UTC), str(cadence), assessments.zone)
        await assessments.make(period, actor)
        return see_other(f"/ui/assessments?period={period.key}", request)

    @get("/{assessment_id:str}")
    async def one(self, request: Request, assessment_id: AssessmentId) -> Response:
        return await self._page(request, assessment_id, {}, {})

    @post("/{assessment_id:str}/{change:str}")
    async def change(self, request: Request, assessment_id: AssessmentId, change: ChangeName) -> Response:
        form = await request.form()
        values = {key: str(form.get(key, "")).strip() for key in ("score", "comment")}
        assessments: Assessments = request.app.state.assessments
        actor = _actor(request)
        try:
            if change == "finalise" and form.get("confirmed") != CONFIRMED:
                # 定稿 is never undone: the first press asks again, the second (confirmed) finalises.
                return await self._page(request, assessment_id, {}, {}, confirm_finalise=True)
            if change == "finalise":
                await assessments.finalise(assessment_id, actor)
            elif change == "coaching":
                words = coaching_words(request.app.state.directory, assessments.zone)
                kpi = str(form.get("kpi") or "") or None
                await open_coaching(assessments, request.app.state.cases, assessment_id, actor, uuid.uuid4().hex, kpi, words)
            else:
                score = _number(values["score"])
                if change == "score":
                    await assessments.score(assessment_id, actor, score, values["comment"])
                elif change == "self":
                    await assessments.self_assess(assessment_id, actor, score, values["comment"])
                elif change == "peer":
                    await assessments.peer_score(assessment_id, actor, score)
                else:
                    raise NotFoundException(f"no change {change!r}")
        except AssessmentNotFound:
            raise NotFoundException(f"no assessment {assessment_id!r}") from None
        except InvalidData as refused:
            return await self._page(request, assessment_id, {change: values}, {change: {refused.field: refused.code}}, status_code=422)
        except CaseRuleError as refused:
            status = 403 if refused.code in (RefusalCode.FORBIDDEN_ROLE, RefusalCode.NOT_YOUR_CASE) else 409
            return await self._page(request, assessment_id, {change: values}, {change: {"form": refused.code}}, status_code=status)
        return see_other(f"/ui/assessments/{assessment_id}", request)

    async def _page(
        self,
        request: Request,
        assessment_id: str,
        values: dict[str, Any],
        errors: dict[str, Any],
        status_code: int = 200,
        confirm_finalise: bool = False,
    ) -> Response:
        assessments: Assessments = request.app.state.assessments
        actor = _actor(request)
        try:
            document = await assessments.get(assessment_id, actor)
        except AssessmentNotFound:
            raise NotFoundException(f"no assessment {assessment_id!r}") from None
        language = language_of(request)
        draft = document["status"] == AssessmentStatus.DRAFT
        own = document["agent_name"] == actor.name
        supervises = actor.role in SUPERVISING_ROLES
        forms = {
            "score": draft and supervises,
            "self": draft and own,
            "peer": draft and actor.role == Role.AGENT and not own and not document["peer_scores"] and assessments.peers_weighted,
        }
        fields = {
            "score": _score_fields(language, with_comment=True),
            "self": _score_fields(language, with_comment=True),
            "peer": _score_fields(language, with_comment=False),
        }
        return page(
            request,
            "assessment.html",
            status_code,
            document=document,
            forms=forms,
            fields=fields,
            values=values,
            errors=errors,
            may_finalise=draft and supervises,
            confirm_finalise=confirm_finalise and draft and supervises,
            confirmed=CONFIRMED,
            may_coach=draft and supervises and bool(document.get("missed")) and not document.get("coaching_plan"),
            parts=tuple(AssessmentPart),
            weights_shown=shown_percentages(document.get("weights_used") or {}),
            names=await _display_names(request),
            figures=Figures(clock_for(request)),
            log=await assessments.log(assessment_id, actor) if actor.role != Role.AGENT else [],
        )


async def _display_names(request: Request) -> dict[str, str]:
    """Everyone's display name by login name, as the case pages show people (person_label)."""
    return {person.name: person_label(person.name, person.display_name) for person in await request.app.state.directory.people()}


def _score_fields(language: str, with_comment: bool) -> list[FormField]:
    fields = [FormField("score", label(language, "console", "assessment_score_field"), "number", True, minimum=0, maximum=100)]
    if with_comment:
        fields.append(FormField("comment", label(language, "console", "assessment_comment"), "textarea", False, max_length=2000))
    return fields


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # refused by the service, naming the field
