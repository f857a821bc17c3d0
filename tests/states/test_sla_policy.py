"""The service-level policy: parsing that names the bad key, VIP targets, business-hours arithmetic."""

from datetime import UTC, datetime, timedelta

import pytest

from states.sla_policy import DEFAULT_POLICY_DATA, PolicyError, parse_duration, parse_policy

SHANGHAI_WEEK = {
    "timezone": "Asia/Shanghai",
    "hours": {day: "08:30-17:30" for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-10-01", "2026-10-02"],
}


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_the_built_in_policy_parses():
    policy = parse_policy(DEFAULT_POLICY_DATA)
    assert policy.targets_for("complaint", "urgent", vip=False)["first_response"] == 600


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT10M", 600), ("PT8H", 28800), ("P1D", 86400), ("P1W", 604800), ("PT1H30M", 5400), ("PT0.5S", 0.5), (90, 90), (2.5, 2.5)],
)
def test_durations_are_seconds_or_iso_8601(text, seconds):
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"warn_at": 1.5}, "warn_at"),
        ({"pause_in": ["lunch"]}, "pause_in"),
        ({"auto_escalate": ["asap"]}, "auto_escalate"),
        ({"targets": {"ticket": {}}}, "targets.ticket"),
        ({"targets": {"complaint": {"soon": {}}}}, "targets.complaint.soon"),
        ({"targets": {"complaint": {"urgent": {"coffee": "PT1M"}}}}, "targets.complaint.urgent.coffee"),
        ({"targets": {"complaint": {"urgent": {"first_response": "ten minutes"}}}}, "targets.complaint.urgent.first_response"),
        ({"targets": {"complaint": {"urgent": {"first_response": 0}}}}, "targets.complaint.urgent.first_response"),
        ({"calendar": {"timezone": "Mars/Olympus", "hours": {"mon": "08:00-17:00"}}}, "calendar.timezone"),
        ({"calendar": {"timezone": "UTC", "hours": {"someday": "08:00-17:00"}}}, "calendar.hours.someday"),
        ({"calendar": {"timezone": "UTC", "hours": {"mon": "08:00-08:00"}}}, "calendar.hours.mon"),
        ({"calendar": {"timezone": "UTC", "hours": {"mon": "8am"}}}, "calendar.hours.mon"),
        ({"calendar": {"timezone": "UTC", "hours": {"mon": "08:00-17:00"}, "holidays": ["soon"]}}, "calendar.holidays"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_key(data, key):
    with pytest.raises(PolicyError) as refused:
        parse_policy(data)
    assert refused.value.key == key


def test_vip_customers_get_the_next_priority_up_and_urgent_stays_urgent():
    policy = parse_policy(DEFAULT_POLICY_DATA)
    assert policy.targets_for("complaint", "normal", vip=True) == policy.targets_for("complaint", "high", vip=False)
    assert policy.targets_for("complaint", "urgent", vip=True) == policy.targets_for("complaint", "urgent", vip=False)


def test_round_the_clock_without_a_calendar():
    policy = parse_policy({})
    assert policy.add_working_time(utc(2026, 11, 23, 23, 0), 7200) == utc(2026, 11, 24, 1, 0)


def test_business_hours_carry_a_deadline_over_the_night():
    policy = parse_policy({"calendar": SHANGHAI_WEEK})
    # Monday 17:00 in Shanghai (09:00 UTC) with two hours to go: 30 minutes today, 90 from 08:30 Tuesday.
    assert policy.add_working_time(utc(2026, 11, 23, 9, 0), 7200) == utc(2026, 11, 24, 2, 0)


def test_business_hours_skip_holidays_and_the_weekend():
    policy = parse_policy({"calendar": SHANGHAI_WEEK})
    # Wednesday 30 September, 17:00 Shanghai, one hour to go: 30 minutes today; 1 and 2 October are
    # holidays; 3 and 4 October are a weekend; the rest falls on Monday 5 October, 08:30-09:00.
    assert policy.add_working_time(utc(2026, 9, 30, 9, 0), 3600) == utc(2026, 10, 5, 1, 0)


def test_a_clock_started_out_of_hours_waits_for_opening():
    policy = parse_policy({"calendar": SHANGHAI_WEEK})
    saturday_noon = utc(2026, 11, 28, 4, 0)
    assert policy.add_working_time(saturday_noon, 600) == utc(2026, 11, 30, 0, 40)


def test_working_seconds_count_only_business_hours():
    policy = parse_policy({"calendar": SHANGHAI_WEEK})
    friday_17 = utc(2026, 11, 27, 9, 0)
    assert policy.working_seconds(friday_17, friday_17 + timedelta(days=3)) == 30 * 60 + 8.5 * 3600
