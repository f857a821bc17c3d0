"""China's official holidays from the pinned package, CASEWORK_HOLIDAYS, and what the SLA policy receives."""

from datetime import date, timedelta

import pytest

from service.holidays import missing_years, official_holidays
from service.settings import Settings, SettingsError
from states.holidays import HolidayCalendar
from states.sla_policy import parse_policy


def test_the_official_calendar_knows_2026_with_its_makeup_days():
    official = official_holidays()
    spring_festival = {date(2026, 2, 15) + timedelta(days=offset) for offset in range(9)}
    assert spring_festival <= official.holidays
    assert not official.is_holiday(date(2026, 2, 14)) and not official.is_holiday(date(2026, 2, 24))
    assert {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20)} <= official.makeup_workdays
    assert max(day.year for day in official.holidays) == 2026  # docs/configuration says until when it is right


def test_the_department_uses_the_official_calendar_unless_told_otherwise():
    assert Settings.from_env({}).holidays == official_holidays()


def test_a_holidays_file_amends_the_official_calendar(tmp_path):
    amendments = tmp_path / "holidays.toml"
    amendments.write_text("holidays = [2026-12-24, 2026-02-14]\nworkdays = [2026-12-27]\n")
    holidays = Settings.from_env({"CASEWORK_HOLIDAYS": str(amendments)}).holidays
    assert holidays.is_holiday(date(2026, 12, 24)) and holidays.is_makeup_workday(date(2026, 12, 27))
    # Saturday 14 February was a make-up day; the file makes it a holiday.
    assert holidays.is_holiday(date(2026, 2, 14)) and not holidays.is_makeup_workday(date(2026, 2, 14))
    assert holidays.is_holiday(date(2026, 10, 1))  # the official dates stay


def test_a_holidays_file_may_replace_the_official_calendar(tmp_path):
    own = tmp_path / "holidays.toml"
    own.write_text("replace = true\nholidays = [2026-12-24]\n")
    holidays = Settings.from_env({"CASEWORK_HOLIDAYS": str(own)}).holidays
    assert holidays.holidays == {date(2026, 12, 24)} and not holidays.makeup_workdays


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("holidays = [2026-12-24]\nworkdays = [2026-12-24]\n", "workdays"),
        ('holidays = ["Christmas"]\n', "holidays"),
        ('replace = "yes"\n', "replace"),
        ("days = []\n", "days"),
        ("holidays = [\n", "not valid TOML"),
    ],
)
def test_a_bad_holidays_file_is_refused_naming_the_variable_and_key(tmp_path, text, named):
    bad = tmp_path / "holidays.toml"
    bad.write_text(text)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CASEWORK_HOLIDAYS": str(bad)})
    assert "CASEWORK_HOLIDAYS" in str(refused.value) and named in str(refused.value)


def test_a_policy_calendar_takes_the_departments_zone_and_holidays(tmp_path):
    policy = tmp_path / "sla.toml"
    policy.write_text('[calendar]\nhours = { workdays = "08:30-17:30", sat = ["09:00-12:00", "17:00-01:00"] }\n')
    amendments = tmp_path / "holidays.toml"
    amendments.write_text("holidays = [2026-12-24]\n")
    settings = Settings.from_env({"CASEWORK_SLA_POLICY": str(policy), "CASEWORK_HOLIDAYS": str(amendments), "CASEWORK_TIMEZONE": "Asia/Urumqi"})
    assert settings.sla_policy is not None
    calendar = parse_policy(settings.sla_policy).calendar
    assert calendar is not None and calendar.timezone == "Asia/Urumqi"
    assert calendar.holidays == settings.holidays and calendar.holidays.is_holiday(date(2026, 12, 24))


def test_a_policy_calendar_with_its_own_dates_keeps_them(tmp_path):
    policy = tmp_path / "sla.toml"
    policy.write_text('[calendar]\ntimezone = "UTC"\nhours = { mon = "08:30-17:30" }\nworkdays = [2026-12-27]\n')
    calendar = parse_policy(Settings.from_env({"CASEWORK_SLA_POLICY": str(policy)}).sla_policy or {}).calendar
    assert calendar is not None and calendar.timezone == "UTC"
    assert calendar.holidays.holidays == frozenset() and calendar.holidays.makeup_workdays == {date(2026, 12, 27)}


def test_a_year_without_holidays_is_named_this_year_and_from_december_the_next():
    calendar = official_holidays()  # 2004 to 2026
    assert missing_years(calendar, date(2026, 6, 1)) == []
    assert missing_years(calendar, date(2026, 12, 3)) == [2027]
    assert missing_years(calendar, date(2027, 3, 1)) == [2027]
    amended = calendar.overridden_by(HolidayCalendar(frozenset({date(2027, 1, 1)})))
    assert missing_years(amended, date(2026, 12, 3)) == []
