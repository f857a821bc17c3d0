"""Improvement plans that measure themselves: a KPI before the measures and after them.

When a plan's `metric` names a KPI (`first_response_on_time_rate?kind=complaint&category=logistics`),
its baseline is that KPI over the four weeks before the plan is reported, unless the reporter gives
one, and `evaluate` records the KPI over the cases reported since the measures were planned. Both
go into the plan's events, with the window and the number of cases they were computed from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from service.kpis import Kpis, MetricNotKpi, parse_metric
from states.case import Report, format_time, parse_time
from states.errors import InvalidData
from states.vocabulary import Kind

BASELINE_WINDOW = timedelta(days=28)


class PlanMeasures:
    def __init__(self, kpis: Kpis):
        self._kpis = kpis

    async def for_report(self, report: Report, now: datetime) -> dict[str, Any] | None:
        if report.kind != Kind.IMPROVEMENT_PLAN or not isinstance(report.data, dict):
            return None
        metric = _metric(report.data.get("metric"))
        if metric is None or report.data.get("baseline") is not None:
            return None
        measured = await self._measure(*metric, now - BASELINE_WINDOW, now)
        return {"baseline_measured": measured} | ({"baseline": measured["value"]} if measured["value"] is not None else {})

    async def for_evaluate(self, case: dict[str, Any], history: list[dict[str, Any]], since_action: str, now: datetime) -> dict[str, Any] | None:
        """The KPI over the cases reported since `since_action` was last taken on the plan."""
        metric = _metric(case["data"].get("metric"))
        planned = [event["at"] for event in history if event["action"] == since_action]
        if metric is None or not planned:
            return None
        measured = await self._measure(*metric, parse_time(planned[-1]), now)
        return {"measured_after": measured, "measured_after_value": measured["value"]}

    async def _measure(self, kpi: str, filters: dict[str, str], start: datetime, end: datetime) -> dict[str, Any]:
        value, cases = await self._kpis.value(kpi, filters, start, end)
        return {"kpi": kpi, "filters": filters, "from": format_time(start), "to": format_time(end), "cases": cases, "value": value}


def _metric(text: Any) -> tuple[str, dict[str, str]] | None:
    try:
        return parse_metric(text)
    except MetricNotKpi as error:
        raise InvalidData("data.metric", str(error)) from None
