"""The supervisors' pages: the wallboard, the KPIs with filters and charts, the weekly and monthly
reviews. Supervisors and auditors read them; the figures come from the same services as the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import PathParameter

from api.console.figures import RATES, Figures
from api.console.render import OVERSEEING_ROLES, clock_for, page
from api.console.session import csrf_checked
from api.console.sign_in_pages import see_other
from service.kpis import KPI_NAMES, MAX_PERIOD, KpiQuery
from service.review_render import period_label, review_zone
from service.reviews import CADENCES, SCHEDULED_BY, UNITS, period_before, period_containing
from service.wallboard import Wallboard
from states.vocabulary import SUPERVISING_ROLES, Kind, RefusalCode

KPI_DAYS = 30
GROUPINGS = ("week", "month")
REVIEW_LISTS = ("breached_cases", "open_incidents", "open_improvement_plans")
REVIEWS_LISTED = 100
MAX_FILTER_TEXT = 20
ReviewId = Annotated[str, PathParameter(max_length=100)]


async def may_oversee(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.user.role not in OVERSEEING_ROLES:
        raise PermissionDeniedException("only supervisors and auditors may read the department's figures")


class SupervisorPages(Controller):
    path = "/ui"
    guards = [csrf_checked, may_oversee]
    include_in_schema = False

    @get("/wallboard")
    async def wallboard(self, request: Request) -> Response:
        clock = clock_for(request)
        now = datetime.now(UTC)
        today = now.astimezone(clock.zone).date()
        figures = await Wallboard(request.app.state.read_model).figures(now, datetime.combine(today, time(0), clock.zone))
        busiest = max((owner.count for owner in figures.by_owner), default=0)
        return page(request, "wallboard.html", figures=figures, busiest=busiest, as_of=now)

    @get("/kpis")
    async def kpis(self, request: Request) -> Response:
        filters = _kpi_filters(request)
        report = await request.app.state.kpis.report(filters.query) if not filters.errors else None
        figures = Figures(clock_for(request))
        return page(
            request,
            "kpis.html",
            filters=filters,
            report=report,
            charts=_kpi_charts(figures, report),
            kinds=list(Kind),
            groupings=GROUPINGS,
            rates=RATES,
            names=KPI_NAMES,
            figures=figures,
        )

    @get("/reviews")
    async def reviews(self, request: Request) -> Response:
        return await self._reviews(request, {"cadence": "monthly", "day": ""}, {})

    @post("/reviews")
    async def make_review(self, request: Request) -> Response:
        """The weekly or monthly review of the week or month a day falls in (no day: the last whole one)."""
        if request.user.role not in SUPERVISING_ROLES:
            raise PermissionDeniedException("only supervisors and managers may make a review")
        form = await request.form()
        values = {name: str(form.get(name) or "").strip()[:MAX_FILTER_TEXT] for name in ("cadence", "day")}
        errors: dict[str, str] = {}
        if values["cadence"] not in UNITS:
            errors["cadence"] = RefusalCode.INVALID_VALUE
        day = _day(values, "day", errors)
        if errors:
            return await self._reviews(request, values, errors, status_code=422)
        zone, now = clock_for(request).zone, datetime.now(UTC)
        noon = datetime.combine(day, time(12), zone) if day else None
        period = period_containing(noon, values["cadence"], zone) if noon else period_before(now, values["cadence"], zone)
        document = await request.app.state.reviews.make(values["cadence"], period, request.user.name, now)
        return see_other(f"/ui/reviews/{document['id']}", request)

    async def _reviews(self, request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
        cadence = request.query_params.get("cadence") or None
        cadence = cadence if cadence in CADENCES else None
        items = await request.app.state.reviews.newest(cadence, REVIEWS_LISTED)
        label = partial(period_label, zone=clock_for(request).zone)
        return page(
            request,
            "reviews.html",
            status_code=status_code,
            items=items,
            cadence=cadence,
            cadences=CADENCES,
            calendar_cadences=tuple(UNITS),
            period_label=label,
            made_by=_made_by(request),
            may_make=request.user.role in SUPERVISING_ROLES,
            values=values,
            errors=errors,
        )

    @get("/reviews/{review_id:str}")
    async def review(self, request: Request, review_id: ReviewId) -> Response:
        document = await request.app.state.reviews.get(review_id)
        if document is None:
            raise NotFoundException(f"no review {review_id!r}")
        figures = Figures(clock_for(request))
        return page(
            request,
            "review.html",
            review=document,
            view=_review_view(figures, document),
            figures=figures,
            period_label=partial(period_label, zone=review_zone(document)),
            made_by=_made_by(request),
        )


def _made_by(request: Request):
    schedule = Figures(clock_for(request)).word("made_by_schedule")
    return lambda name: schedule if name == SCHEDULED_BY else name


@dataclass
class KpiFilters:
    values: dict[str, str]
    errors: dict[str, str]
    query: KpiQuery

    def link(self, **changes: str) -> str:
        return "?" + urlencode({key: value for key, value in {**self.values, **changes}.items() if value})


def _kpi_filters(request: Request) -> KpiFilters:
    """Whole days in the department's zone, `to` included; the last 30 days unless asked otherwise."""
    zone = clock_for(request).zone
    values = {name: (request.query_params.get(name) or "").strip()[:MAX_FILTER_TEXT] for name in ("from", "to", "kind", "group")}
    errors: dict[str, str] = {}
    for name, allowed in (("kind", list(Kind)), ("group", GROUPINGS)):
        if values[name] and values[name] not in allowed:
            errors[name] = RefusalCode.INVALID_VALUE
    today = datetime.now(UTC).astimezone(zone).date()
    last = _day(values, "to", errors) or today
    first = _day(values, "from", errors) or last - timedelta(days=KPI_DAYS - 1)
    start, end = datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)
    if start >= end:
        errors["from"] = RefusalCode.INVALID_VALUE
    elif end - start > MAX_PERIOD:
        errors["to"] = RefusalCode.INVALID_VALUE
    values["from"], values["to"] = first.isoformat(), last.isoformat()
    query = KpiQuery(start.astimezone(UTC), end.astimezone(UTC), kind=values["kind"] or None, group_by=values["group"] or None)
    return KpiFilters(values, errors, query)


def _day(values: dict[str, str], name: str, errors: dict[str, str]) -> date | None:
    if not values[name]:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        errors[name] = RefusalCode.INVALID_VALUE
        return None


def _kpi_charts(figures: Figures, report: dict[str, Any] | None) -> list[str]:
    if report is None:
        return []
    overall = report["kpis"]
    by_kind = overall.get("volume_by_kind") or {}
    charts = [
        figures.rates_chart(figures.word("chart_rates"), overall),
        figures.counts_chart(figures.word("chart_by_kind"), [figures.label_of("kind", kind) for kind in by_kind], list(by_kind.values())),
    ]
    groups = report.get("groups") or []
    if groups:
        keys = [group["key"] for group in groups]
        charts.append(figures.counts_chart(figures.word("chart_volume_by_period"), keys, [group["kpis"]["volume"] for group in groups]))
    charts.append(figures.times_chart(figures.word("chart_times"), overall))
    return charts


def _review_view(figures: Figures, review: dict[str, Any]) -> dict[str, Any]:
    """The review's rows and charts in the user's language, from the document as it was stored."""
    current, previous = review.get("kpis") or {}, review.get("previous_kpis") or {}
    deltas = review.get("deltas") or {}
    rows = []
    for name in KPI_NAMES:
        if name not in current and name not in deltas:
            continue
        delta = (deltas.get(name) or {}).get("delta")
        rows.append(
            {
                "name": name,
                "label": figures.kpi_label(name),
                "current": figures.value(name, current.get(name)),
                "previous": figures.value(name, previous.get(name)),
                "change": figures.change(name, delta),
                "verdict": figures.verdict(name, delta),
            }
        )
    by_category = sorted((current.get("volume_by_category") or {}).items(), key=lambda item: -item[1])
    charts = [
        figures.rates_chart(figures.word("chart_rates_compared"), current, previous),
        figures.counts_chart(
            figures.word("chart_by_category"), [figures.category_label(name) for name, _ in by_category], [count for _, count in by_category]
        ),
        figures.times_chart(figures.word("chart_times_compared"), current, previous),
    ]
    lists = [(key, review.get(key) or []) for key in REVIEW_LISTS]
    return {"rows": rows, "charts": charts, "lists": lists, "top_categories": review.get("top_categories") or []}
