"""The assessment policy: totals and grades from known inputs, renormalisation, periods in the department's zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from states.assessment import DEFAULT_POLICY, kpi_score, parse_assessment_policy, satisfaction_score
from states.assessment_periods import parse_period_key, period_at, period_before
from states.errors import InvalidData
from states.policy_error import PolicyError
from states.vocabulary import Grade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_total_and_grade_from_known_inputs_equal_the_hand_computed_figure():
    # 0.3×75 + 0.3×88 + 0.2×90 + 0.2×85 = 22.5 + 26.4 + 18 + 17 = 83.9 → 良好 (good, 80 ≤ 83.9 < 90)
    parts = {"kpi": 75.0, "quality": 88.0, "satisfaction": 90.0, "supervisor": 85.0, "self": 100.0, "peers": None}
    combined = DEFAULT_POLICY.combine(parts)
    assert combined["total"] == 83.9
    assert combined["grade"] == Grade.GOOD


def test_a_missing_part_is_left_out_and_the_other_weights_renormalised():
    # No quality check: kpi 0.3, satisfaction 0.2, supervisor 0.2 over 0.7 → (22.5 + 18 + 17) / 0.7 = 82.142857…
    combined = DEFAULT_POLICY.combine({"kpi": 75.0, "quality": None, "satisfaction": 90.0, "supervisor": 85.0})
    assert combined["total"] == 82.14
    assert combined["weights_used"] == pytest.approx({"kpi": 3 / 7, "satisfaction": 2 / 7, "supervisor": 2 / 7})


def test_no_weighted_part_with_a_figure_gives_no_total():
    assert DEFAULT_POLICY.combine({"self": 90.0}) == {"total": None, "grade": None, "weights_used": {}}


def test_grades_by_thresholds_the_boundary_included():
    assert [DEFAULT_POLICY.grade(total) for total in (90, 89.99, 80, 60, 59.99)] == [Grade.EXCELLENT, Grade.GOOD, Grade.GOOD, Grade.PASS, Grade.FAIL]


def test_a_policy_sets_weights_and_grades_part_by_part():
    policy = parse_assessment_policy({"assessment": {"weights": {"self": 0.1, "peers": 0.1, "satisfaction": 0}, "grades": {"excellent": 95}}})
    # kpi 0.3×50 + quality 0.3×100 + supervisor 0.2×80 + self 0.1×100 + peers 0.1×70 = 15 + 30 + 16 + 10 + 7 = 78 over 1.0
    combined = policy.combine({"kpi": 50.0, "quality": 100.0, "satisfaction": 0.0, "supervisor": 80.0, "self": 100.0, "peers": 70.0})
    assert combined["total"] == 78.0
    assert combined["grade"] == Grade.PASS
    assert policy.grade(92) == Grade.GOOD


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"weights": {"kpi": -1}}, "assessment.weights.kpi"),
        ({"weights": {"luck": 1}}, "assessment.weights.luck"),
        ({"weights": {"kpi": 0, "quality": 0, "satisfaction": 0, "supervisor": 0}}, "assessment.weights"),
        ({"grades": {"pass": 120}}, "assessment.grades.pass"),
        ({"grades": {"good": 95}}, "assessment.grades"),
        ({"bonus": 1}, "assessment.bonus"),
    ],
)
def test_a_bad_assessment_table_is_refused_naming_the_key(table, key):
    with pytest.raises(PolicyError) as refused:
        parse_assessment_policy({"assessment": table})
    assert refused.value.key == key


def test_kpi_score_is_the_share_of_judged_targets_met():
    judged: dict[str, dict[str, bool | None]] = {"a": {"met": True}, "b": {"met": False}, "c": {"met": None}, "d": {"met": True}}
    assert kpi_score(judged) == pytest.approx(200 / 3)
    assert kpi_score({"a": {"met": None}}) is None
    assert satisfaction_score(0.85) == pytest.approx(85.0)


def test_a_case_closed_late_on_the_last_evening_of_november_in_beijing_is_in_november():
    moment = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Beijing; already 1 December in nothing but UTC+9 and east
    november = period_at(moment, "monthly", SHANGHAI)
    assert november.key == "2026-11"
    start, end = november.bounds(SHANGHAI)
    assert start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC) and end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert start <= moment < end
    assert period_at(datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "monthly", SHANGHAI).key == "2026-12"


def test_the_schedule_at_the_start_of_a_period_assesses_the_one_before():
    first_of_january = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # 02:00 on 1 January 2027 in Beijing
    assert [period_before(first_of_january, cadence, SHANGHAI).key for cadence in ("monthly", "quarterly", "yearly")] == [
        "2026-12",
        "2026-Q4",
        "2026",
    ]


def test_period_keys_name_months_quarters_and_years():
    assert [(period.cadence, period.key) for period in map(parse_period_key, ("2026-11", "2026-Q4", "2026"))] == [
        ("monthly", "2026-11"),
        ("quarterly", "2026-Q4"),
        ("yearly", "2026"),
    ]
    assert parse_period_key("2026-Q4").bounds(SHANGHAI)[1] == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    for bad in ("2026-13", "2026-Q5", "26-11", "november"):
        with pytest.raises(InvalidData):
            parse_period_key(bad)
