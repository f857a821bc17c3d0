"""China's official holidays and make-up working days, from the `chinese-calendar` package.

The package's data is turned into a plain HolidayCalendar here, at the edge, so the pure rules and
the workflows receive only dates. Its 1.11.0 release knows 2004 to 2026; the State Council
announces each next year's dates in November, and a newer release of the package follows.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from chinese_calendar import constants

from states.holidays import HolidayCalendar


@cache
def official_holidays() -> HolidayCalendar:
    return HolidayCalendar(frozenset(constants.holidays), frozenset(constants.workdays))


def missing_years(calendar: HolidayCalendar, today: date) -> list[int]:
    """The years a department works in soon that its calendar lists no holiday of: this year, and
    from December on the next (service-level clocks would count their holidays as working days)."""
    known = {day.year for day in calendar.holidays}
    soon = [today.year, today.year + 1] if today.month == 12 else [today.year]
    return [year for year in soon if year not in known]
