"""CASEWORK_MEETINGS and CASEWORK_MEETINGS_AHEAD: read at start, checked, defaults that work out of the box."""

from datetime import time
from pathlib import Path

import pytest

from service.settings import Settings, SettingsError

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "meetings.toml"


def test_without_a_file_weekly_meetings_are_on_friday_afternoon_in_the_departments_zone():
    plan = Settings.from_env({}).meeting_plan
    assert (plan.timezone, plan.weekly.weekday, plan.weekly.at, plan.monthly.weekday, plan.rotation) == ("Asia/Shanghai", 4, time(16), 4, ())


def test_the_example_file_is_read_with_its_rotation():
    settings = Settings.from_env({"CASEWORK_MEETINGS": str(EXAMPLE), "CASEWORK_MEETINGS_AHEAD": "3", "CASEWORK_TIMEZONE": "Europe/Berlin"})
    plan = settings.meeting_plan
    assert plan.rotation == ("sam", "sue", "tom") and plan.weekly.place == "3楼会议室" and plan.timezone == "Europe/Berlin"
    assert settings.meetings_ahead == 3


def test_a_bad_meetings_file_stops_the_start_naming_the_key(tmp_path):
    bad = tmp_path / "meetings.toml"
    bad.write_text('[weekly]\nweekday = "friday"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"weekly\.weekday"):
        Settings.from_env({"CASEWORK_MEETINGS": str(bad)})
