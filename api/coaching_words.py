"""A coaching plan's title and description, as people read them: in the department's default
language (plans are read by the whole department, not only by who opened them), with the agent's
display name, the KPI's label, its target and value as the KPI pages write them, and the period."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from api.console.figures import Figures
from api.console.timefmt import Clock
from api.labels import label
from service.directory import LANGUAGES, Directory
from states.assessment_periods import parse_period_key

DEPARTMENT_LANGUAGE = LANGUAGES[0]

Words = Callable[[dict[str, Any], str], Awaitable[tuple[str, str]]]


def coaching_words(directory: Directory, zone: ZoneInfo) -> Words:
    figures = Figures(Clock(zone, DEPARTMENT_LANGUAGE))

    async def words(document: dict[str, Any], kpi: str) -> tuple[str, str]:
        person = await directory.person(document["agent_name"])
        judged = document["targets"][kpi]
        values = {
            "name": person.display_name if person else document["agent_name"],
            "kpi": figures.kpi_label(kpi),
            "target": figures.target(kpi, judged),
            "value": figures.value(kpi, judged["value"]),
            "period": period_words(document["period"]),
        }
        return figures.word("coaching_title", **values), figures.word("coaching_description", **values)

    return words


def period_words(key: str) -> str:
    """2026-12 → 2026年12月, 2026-Q4 → 2026年第4季度, 2026 → 2026年 (in the department's language)."""
    period = parse_period_key(key)
    day = period.first_day
    text = label(DEPARTMENT_LANGUAGE, "console", f"period_{period.cadence}")
    return text.format(year=day.year, month=day.month, quarter=(day.month - 1) // 3 + 1)
