"""The periods agents are assessed over: calendar months, quarters and years in the department's zone.

A period is named by its key: `2026-11` (a month), `2026-Q4` (a quarter), `2026` (a year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from states.errors import InvalidData

CADENCES = ("monthly", "quarterly", "yearly")
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
# Years a period may fall in: both bounds, as midnights in any zone, stay within what datetime holds.
YEARS = (1900, 9998)
KEY = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?$")


@dataclass(frozen=True)
class AssessmentPeriod:
    cadence: str
    first_day: date  # in the department's calendar

    @property
    def key(self) -> str:
        if self.cadence == "monthly":
            return f"{self.first_day:%Y-%m}"
        if self.cadence == "quarterly":
            return f"{self.first_day.year}-Q{(self.first_day.month - 1) // 3 + 1}"
        return f"{self.first_day.year}"

    @property
    def next_first_day(self) -> date:
        months = self.first_day.year * 12 + self.first_day.month - 1 + MONTHS[self.cadence]
        return date(months // 12, months % 12 + 1, 1)

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: from midnight of its first day to midnight of the next period's, in `zone`."""
        return _midnight(self.first_day, zone), _midnight(self.next_first_day, zone)

    def before(self) -> AssessmentPeriod:
        return period_containing(self.first_day - timedelta(days=1), self.cadence)


def period_containing(day: date, cadence: str, field: str = "period") -> AssessmentPeriod:
    if cadence not in CADENCES:
        raise InvalidData("period", f"must be one of: {', '.join(CADENCES)}")
    _check_year(day.year, field)
    first_month = (day.month - 1) // MONTHS[cadence] * MONTHS[cadence] + 1
    return AssessmentPeriod(cadence, date(day.year, first_month, 1))


def period_at(moment: datetime, cadence: str, zone: tzinfo, field: str = "period") -> AssessmentPeriod:
    """The period `moment` falls in, as the calendar reads in `zone`."""
    _check_year(moment.year, field)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a naive moment is UTC
    return period_containing(aware.astimezone(zone).date(), cadence, field)


def period_before(moment: datetime, cadence: str, zone: tzinfo) -> AssessmentPeriod:
    """The last whole period that ended by `moment` in `zone` (the one a schedule firing then assesses)."""
    return period_at(moment, cadence, zone).before()


def parse_period_key(text: str, field: str = "period") -> AssessmentPeriod:
    match = KEY.match(text)
    if not match or not 1 <= int(match["month"] or 1) <= 12:
        raise InvalidData(field, "must be a month (2026-11), a quarter (2026-Q4) or a year (2026)")
    year = int(match["year"])
    _check_year(year, field)
    if match["month"]:
        return AssessmentPeriod("monthly", date(year, int(match["month"]), 1))
    if match["quarter"]:
        return AssessmentPeriod("quarterly", date(year, (int(match["quarter"]) - 1) * 3 + 1, 1))
    return AssessmentPeriod("yearly", date(year, 1, 1))


def _check_year(year: int, field: str) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise InvalidData(field, f"must fall in the years {YEARS[0]} to {YEARS[1]}")


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)
