"""KPIs and the weekly and monthly reviews: read by everyone, made on demand by supervisors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from msgspec import Struct

from api.auth import supervising_only
from api.controllers import query_time
from api.errors import problems
from api.schemas import KindName, PriorityName
from service.kpis import MAX_PERIOD, KpiQuery, Kpis
from service.review_render import to_html, to_markdown
from service.reviews import Period, Reviews, as_seen_by, period_before, period_containing
from service.targets import in_force
from states.case import as_utc
from states.errors import InvalidData
from states.spec import CASE_CATEGORIES

Category = Literal[CASE_CATEGORIES]  # type: ignore[valid-type]
# float only: an int alternative would make every figure ambiguous in the schema (oneOf).
Number = float | None
KPI_PERIOD = timedelta(days=30)
REVIEW_PERIOD = timedelta(days=7)
# The review page styles itself inline and draws its charts as inline SVG; nothing else may load.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class KpiFigures(Struct):
    volume: int
    first_responses: int
    first_response_mean_seconds: Number
    first_response_p50_seconds: Number
    first_response_p90_seconds: Number
    first_response_on_time_rate: Number
    handled: int
    handling_mean_seconds: Number
    handling_p50_seconds: Number
    handling_p90_seconds: Number
    dismissed: int
    resolution_rate: Number
    satisfaction_responses: int
    satisfaction_mean_score: Number
    satisfied_share: Number
    reopen_rate: Number
    breach_rate: Number
    # Defaults: reviews stored before responses were counted lack them.
    responses: int = 0
    response_mean_seconds: Number = None
    volume_by_kind: dict[str, int] | None = None
    volume_by_category: dict[str, int] | None = None


class Verdict(Struct):
    """A targeted KPI: its target (`{"kpi", "at_least" | "at_most"}`), its figure, and whether the figure
    met it (null: no figure)."""

    target: dict[str, str | float]
    value: Number
    met: bool | None


class KpiGroup(Struct, omit_defaults=True):
    key: str | None
    kpis: KpiFigures
    from_: str | None = msgspec.field(name="from", default=None)
    to: str | None = None
    # Grouped by team: the team's targets, judged on its figures.
    targets: dict[str, Verdict] | None = None


class KpiReport(Struct):
    from_: str = msgspec.field(name="from")
    to: str
    filters: dict[str, str]
    group_by: str | None
    kpis: KpiFigures
    # The overall figures judged on the targets in force (the `team` filter's team's, if any).
    targets: dict[str, Verdict]
    groups: list[KpiGroup] = []


class TargetsInForce(Struct):
    """Each targeted KPI's bound, `{"at_least": n}` or `{"at_most": n}`: the department's, and the
    merged targets of each team that overrides any."""

    department: dict[str, dict[str, float]]
    teams: dict[str, dict[str, dict[str, float]]]


class PeriodOut(Struct):
    from_: str = msgspec.field(name="from")
    to: str


class ReviewCase(Struct):
    id: str
    kind: str
    title: str
    priority: str
    owner: str | None
    state: str


class TeamFigures(Struct):
    team: str | None  # null: the cases in no team
    site: str | None
    kpis: KpiFigures
    # Judged on the team's targets (the department's for the cases in no team); reviews made before targets: none.
    targets: dict[str, Verdict] = {}


class AgentFigures(Struct):
    """One agent's row of a review (docs/kpis.md, "Per agent")."""

    name: str  # the agent's
    cases: int
    solved: int
    complaints_handled: int
    first_response_mean_seconds: Number
    response_mean_seconds: Number
    handling_mean_seconds: Number
    satisfaction_mean_score: Number
    satisfied_share: Number
    quality_mean_score: Number
    quality_checks: int
    # Judged on the agent's team's targets, and the KPIs that missed theirs (rows made before: none).
    targets: dict[str, Verdict] = {}
    missed: list[str] = []


class Delta(Struct):
    current: Number
    previous: Number
    delta: Number


class Review(Struct):
    id: str
    cadence: str
    period: PeriodOut
    previous_period: PeriodOut
    created_at: str
    created_by: str
    kpis: KpiFigures
    previous_kpis: KpiFigures
    deltas: dict[str, Delta]
    top_categories: list[dict[str, Any]]
    breached_cases: list[ReviewCase]
    open_incidents: list[ReviewCase]
    open_improvement_plans: list[ReviewCase]
    # Each team's figures this period (reviews made before teams: none).
    teams: list[TeamFigures] = []
    # The overall figures judged on the department's targets, and each agent's row (reviews made before: none).
    targets: dict[str, Verdict] = {}
    agents: list[AgentFigures] = []
    # The time zone its weeks and months were cut in (reviews made before it was recorded: UTC).
    timezone: str = "UTC"
    # Monthly reviews: the month's assessments and who is below target (service/assessments.py assessment_summary).
    assessments: dict[str, Any] | None = None


class ReviewSummary(Struct):
    id: str
    cadence: str
    period: PeriodOut
    created_at: str
    created_by: str


class ReviewList(Struct):
    items: list[ReviewSummary]


class ReviewIn(Struct):
    from_: datetime | None = msgspec.field(name="from", default=None)
    to: datetime | None = None
    # A weekly or monthly review: of the week or month `from` falls in (default: the last whole one).
    cadence: Literal["weekly", "monthly"] | None = None


def _period(start: datetime | None, end: datetime | None, default_length: timedelta) -> Period:
    end = as_utc(end) if end else datetime.now(UTC)
    try:
        start = as_utc(start) if start else end - default_length
    except OverflowError:
        raise InvalidData("to", "is too early: the default period before it would start before the year 1") from None
    if start >= end:
        raise InvalidData("from", "must be before 'to'")
    if end - start > MAX_PERIOD:
        raise InvalidData("to", f"the period may span at most {MAX_PERIOD.days} days")
    return Period(start, end)


class KpiController(Controller):
    path = "/kpis"
    tags = ["kpis"]

    @get("/", summary="KPIs of the cases reported in a period (docs/kpis.md defines each)", responses=problems(400, 422))
    async def kpis(
        self,
        kpis: NamedDependency[Kpis],
        start: Annotated[
            str | None,
            QueryParameter(name="from", format=OpenAPIFormat.DATE_TIME, max_length=64, description="start, inclusive; default: 30 days before `to`"),
        ] = None,
        to: Annotated[str | None, QueryParameter(format=OpenAPIFormat.DATE_TIME, max_length=64, description="end, exclusive; default: now")] = None,
        kind: FromQuery[KindName | None] = None,
        category: FromQuery[Category | None] = None,
        priority: FromQuery[PriorityName | None] = None,
        owner: Annotated[str | None, QueryParameter(max_length=200)] = None,
        team: Annotated[str | None, QueryParameter(max_length=100, description="cases of this team")] = None,
        site: Annotated[str | None, QueryParameter(max_length=100, description="cases of this site's teams")] = None,
        group_by: FromQuery[Literal["kind", "category", "priority", "owner", "team", "site", "week", "month"] | None] = None,
        exact: Annotated[
            bool, QueryParameter(description="every figure from the cases themselves, percentiles exact (slower); default: from the daily roll-ups")
        ] = False,
    ) -> KpiReport:
        period = _period(query_time("from", start), query_time("to", to), KPI_PERIOD)
        query = KpiQuery(period.start, period.end, kind, category, priority, owner, group_by, team=team, site=site)
        return msgspec.convert(await (kpis.exact if exact else kpis).report(query), KpiReport)


class TargetController(Controller):
    path = "/targets"
    tags = ["kpis"]

    @get("/", summary="The KPI targets in force (CASEWORK_TARGETS): the department's and each overriding team's")
    async def targets(self, kpis: NamedDependency[Kpis]) -> TargetsInForce:
        return msgspec.convert(in_force(kpis.targets), TargetsInForce)


class ReviewController(Controller):
    path = "/reviews"
    tags = ["reviews"]

    @get("/", summary="Stored reviews, newest period first", responses=problems(400, 422))
    async def list_reviews(
        self,
        reviews: NamedDependency[Reviews],
        cadence: FromQuery[Literal["weekly", "monthly", "custom"] | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> ReviewList:
        return msgspec.convert({"items": await reviews.newest(cadence, limit)}, ReviewList)

    @post(
        "/",
        guards=[supervising_only],
        status_code=201,
        summary="Make a review now: of any period (default: the 7 days before now), or the weekly or monthly review of the week or month `from` falls in",
        responses=problems(400, 403, 413, 422),
    )
    async def make_review(self, request: Request, data: JSONBody[ReviewIn], reviews: NamedDependency[Reviews]) -> Review:
        now = datetime.now(UTC)
        if data.cadence is None:
            document = await reviews.make("custom", _period(data.from_, data.to, REVIEW_PERIOD), request.user.name, now)
        elif data.to is not None:
            raise InvalidData("to", "not with a cadence: the review covers the week or month 'from' falls in")
        else:
            document = await reviews.make(data.cadence, _calendar_period(reviews, data.cadence, data.from_, now), request.user.name, now)
        return msgspec.convert(document, Review)

    @get("/{review_id:str}", summary="One review", responses=problems(400, 404, 422))
    async def get_review(
        self, request: Request, review_id: Annotated[str, PathParameter(max_length=100)], reviews: NamedDependency[Reviews]
    ) -> Review:
        return msgspec.convert(await _review(request, reviews, review_id), Review)

    @get(
        "/{review_id:str}/markdown",
        summary="One review as Markdown",
        media_type="text/markdown; charset=utf-8",
        responses=problems(400, 404, 422),
    )
    async def review_markdown(
        self, request: Request, review_id: Annotated[str, PathParameter(max_length=100)], reviews: NamedDependency[Reviews]
    ) -> Response[str]:
        return Response(to_markdown(await _review(request, reviews, review_id)), media_type="text/markdown; charset=utf-8")

    @get(
        "/{review_id:str}/page",
        summary="One review as an HTML page with charts, for the meeting's screen",
        media_type="text/html; charset=utf-8",
        responses=problems(400, 404, 422),
    )
    async def review_page(
        self, request: Request, review_id: Annotated[str, PathParameter(max_length=100)], reviews: NamedDependency[Reviews]
    ) -> Response[str]:
        page = to_html(await _review(request, reviews, review_id))
        return Response(page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": PAGE_CSP})


async def _review(request: Request, reviews: Reviews, review_id: str) -> dict[str, Any]:
    document = await reviews.get(review_id)
    if document is None:
        raise NotFoundException(f"no review {review_id!r}")
    return as_seen_by(document, request.user.name, request.user.role)


def _calendar_period(reviews: Reviews, cadence: str, moment: datetime | None, now: datetime) -> Period:
    try:
        return period_containing(as_utc(moment), cadence, reviews.zone) if moment else period_before(now, cadence, reviews.zone)
    except (OverflowError, ValueError):
        raise InvalidData("from", "is out of the calendar's range") from None
