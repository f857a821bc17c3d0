"""A service-level deadline on the real stack skips the department's holidays (CASEWORK_HOLIDAYS)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.settings import Settings
from states.case import parse_time

ROUND_THE_CLOCK = "\n".join(f'{day} = "00:00-24:00"' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


async def test_a_first_response_deadline_skips_the_two_holidays_after_today(api_with_policy, tmp_path):
    # Every weekday round the clock, but tomorrow and the day after (in Beijing) are holidays: a
    # one-day target reported now runs out 24 working hours later, which is 72 hours on the clock.
    tomorrow = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    holidays = tmp_path / "holidays.toml"
    holidays.write_text(f"replace = true\nholidays = [{tomorrow}, {tomorrow + timedelta(days=1)}]\n")
    policy = tmp_path / "sla.toml"
    policy.write_text(f'[targets.complaint.normal]\nfirst_response = "P1D"\n[calendar.hours]\n{ROUND_THE_CLOCK}\n')
    settings = Settings.from_env({"CASEWORK_SLA_POLICY": str(policy), "CASEWORK_HOLIDAYS": str(holidays)})
    assert settings.sla_policy is not None

    async with api_with_policy(settings.sla_policy) as api:
        case = await api.open()
        shown = await api.get(case["id"])
        deadline = parse_time(shown["sla"]["first_response"]["deadline"])
        assert deadline - parse_time(case["created_at"]) == timedelta(hours=72)
        assert deadline.astimezone(ZoneInfo("Asia/Shanghai")).date() == tomorrow + timedelta(days=2)
