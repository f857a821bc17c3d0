"""Public holidays and make-up working days (调休): which days a department works.

A plain value: the dates come from outside (China's official calendar, a file), already parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from states.policy_error import PolicyError


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: frozenset[date] = frozenset()
    # Weekend days worked in exchange for a longer holiday.
    makeup_workdays: frozenset[date] = frozenset()

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays

    def is_makeup_workday(self, day: date) -> bool:
        return day in self.makeup_workdays

    def is_workday(self, day: date) -> bool:
        """Monday to Friday unless a holiday, and the make-up days."""
        return day in self.makeup_workdays or (day.weekday() < 5 and day not in self.holidays)

    def overridden_by(self, other: HolidayCalendar) -> HolidayCalendar:
        """This calendar with `other`'s dates added; a date keeps the kind `other` gives it."""
        return HolidayCalendar(
            (self.holidays - other.makeup_workdays) | other.holidays,
            (self.makeup_workdays - other.holidays) | other.makeup_workdays,
        )


NO_HOLIDAYS = HolidayCalendar()


def parse_dates(values: Any, key: str) -> frozenset[date]:
    """A list of dates, as `date` values or ISO strings like 2026-10-01."""
    if not isinstance(values, list):
        raise PolicyError(key, "must be a list of dates like 2026-10-01")
    try:
        return frozenset(value if isinstance(value, date) else date.fromisoformat(value) for value in values)
    except (TypeError, ValueError):
        raise PolicyError(key, "must be a list of dates like 2026-10-01") from None


def parse_holiday_calendar(holidays: Any, workdays: Any, key: str) -> HolidayCalendar:
    """Holidays and make-up working days; a date cannot be both."""
    calendar = HolidayCalendar(parse_dates(holidays, f"{key}holidays"), parse_dates(workdays, f"{key}workdays"))
    both = sorted(calendar.holidays & calendar.makeup_workdays)
    if both:
        raise PolicyError(f"{key}workdays", f"{both[0]} is also listed as a holiday")
    return calendar
