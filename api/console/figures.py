"""KPI figures and charts as the console shows them: in the user's language, durations as the
department reads them, charts as SVG the strict CSP allows (classes, no style attributes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.console.timefmt import Clock
from api.labels import label
from service.review_charts import Series, bar_chart
from service.review_render import BOUNDS, KPIS, NO_DATA, change_direction
from states.spec import CASE_CATEGORIES

UNCATEGORISED = "none"  # service/kpis.py's key for the cases without a category
UNITS = {kpi.name: kpi.unit for kpi in KPIS}
BETTER = {kpi.name: kpi.better for kpi in KPIS}
# The five rates the glossary names, in the order a meeting reads them.
RATES = ("first_response_on_time_rate", "resolution_rate", "satisfied_share", "reopen_rate", "breach_rate")
TIMES = ("first_response_p50_seconds", "first_response_p90_seconds", "handling_p50_seconds", "handling_p90_seconds")


@dataclass(frozen=True)
class Figures:
    """Writes KPI values and their changes for one user."""

    clock: Clock

    def word(self, key: str, **values: Any) -> str:
        text = label(self.clock.language, "console", key)
        return text.format(**values) if values else text

    def label_of(self, context: str, term: str) -> str:
        return label(self.clock.language, context, term)

    def kpi_label(self, name: str) -> str:
        return label(self.clock.language, "kpi", name)

    def category_label(self, name: str) -> str:
        """A case category's label; the KPIs count the cases without one under "none"."""
        if name in CASE_CATEGORIES:
            return label(self.clock.language, "choice", name)
        return self.word("uncategorised") if name == UNCATEGORISED else name

    def value(self, name: str, value: float | None) -> str:
        return NO_DATA if value is None else self._plain(UNITS.get(name, "count"), value)

    def target(self, name: str, judged: dict[str, Any]) -> str:
        """A KPI's target as a bound and a value: "≥ 95.0%", "≤ 30分"."""
        bound = next(bound for bound in BOUNDS if bound in judged["target"])
        return f"{BOUNDS[bound]} {self.value(name, judged['target'][bound])}"

    def change(self, name: str, delta: float | None) -> str:
        """ "▲ +3.5 pp" / "▲ +3.5个百分点", "▼ -30分"; a change too small to show is "no change"."""
        unit = UNITS.get(name, "count")
        direction = change_direction(unit, delta)
        if delta is None:
            return NO_DATA
        if direction == 0:
            return self.word("no_change")
        magnitude = self.word("points", value=f"{abs(delta) * 100:.1f}") if unit == "rate" else self._plain(unit, abs(delta))
        return f"{'▲ +' if direction > 0 else '▼ -'}{magnitude}"

    def verdict(self, name: str, delta: float | None) -> str | None:
        """ "better", "worse", or None when unchanged, unknown, or neither way is good news."""
        direction = change_direction(UNITS.get(name, "count"), delta) * BETTER.get(name, 0)
        return "better" if direction > 0 else "worse" if direction < 0 else None

    def _plain(self, unit: str, value: float) -> str:
        if unit == "rate":
            return f"{value * 100:.1f}%"
        if unit == "duration":
            # Under a minute the console's durations would all read "0 min"; a chart's ticks need seconds.
            return self.word("seconds", count=round(value)) if value < 60 else self.clock.duration(value)
        if unit == "score":
            return f"{value:.1f}"
        return f"{round(value):,}"

    def chart(self, title: str, labels: Sequence[str], series: Sequence[Series], unit: str, scale_max: float | None = None) -> str:
        return bar_chart(title, labels, series, lambda value: self._plain(unit, value), scale_max, no_data=self.word("no_data"))

    def rates_chart(self, title: str, current: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
        labels = [self.kpi_label(name) for name in RATES]
        return self.chart(title, labels, self._compared(RATES, current, previous), "rate", scale_max=1.0)

    def times_chart(self, title: str, current: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
        labels = [self.word(f"short_{name}") for name in TIMES]  # the full names are too wide for a bar
        return self.chart(title, labels, self._compared(TIMES, current, previous), "duration")

    def counts_chart(self, title: str, labels: Sequence[str], counts: Sequence[float | None]) -> str:
        # An even top, so the middle tick is a whole number of cases.
        even_top = max(2, 2 * math.ceil(max((count or 0 for count in counts), default=0) / 2))
        return self.chart(title, labels, [Series(self.word("this_period"), "current", counts)], "count", scale_max=even_top)

    def _compared(self, names: Sequence[str], current: dict[str, Any], previous: dict[str, Any] | None) -> list[Series]:
        series = [Series(self.word("this_period"), "current", [current.get(name) for name in names])]
        if previous is not None:
            series.append(Series(self.word("previous_period"), "previous", [previous.get(name) for name in names]))
        return series
