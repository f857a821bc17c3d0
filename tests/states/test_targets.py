"""KPI targets (states/targets.py): met at the boundary, and a team's own targets in place of the department's."""

import pytest

from states.kpi_names import KPI_NAMES
from states.policy_error import PolicyError
from states.targets import parse_targets

TARGETS = parse_targets(
    {
        "department": {"resolution_rate": {"at_least": 0.9}, "handling_mean_seconds": {"at_most": 3600}},
        "teams": {"north": {"resolution_rate": {"at_least": 0.95}}},
    },
    KPI_NAMES,
)


@pytest.mark.parametrize(("figure", "met"), [(0.9, True), (0.9000001, True), (0.8999999, False), (None, None)])
def test_at_least_is_met_by_a_figure_equal_to_the_target_or_above(figure, met):
    assert TARGETS.judge({"resolution_rate": figure})["resolution_rate"]["met"] is met


@pytest.mark.parametrize(("figure", "met"), [(3600, True), (3599.5, True), (3600.5, False)])
def test_at_most_is_met_by_a_figure_equal_to_the_target_or_below(figure, met):
    assert TARGETS.judge({"handling_mean_seconds": figure})["handling_mean_seconds"]["met"] is met


def test_a_team_overrides_the_department_kpi_by_kpi():
    judged = TARGETS.judge({"resolution_rate": 0.92, "handling_mean_seconds": 100}, "north")
    assert judged["resolution_rate"] == {"target": {"kpi": "resolution_rate", "at_least": 0.95}, "value": 0.92, "met": False}
    assert judged["handling_mean_seconds"]["met"] is True  # the department's target, kept
    assert TARGETS.judge({"resolution_rate": 0.92}, "south")["resolution_rate"]["met"] is True


def test_the_new_response_kpis_may_be_targeted():
    targets = parse_targets({"department": {"response_mean_seconds": {"at_most": 1800}, "responses": {"at_least": 1}}}, KPI_NAMES)
    assert set(targets.department) == {"response_mean_seconds", "responses"}
    with pytest.raises(PolicyError, match=r"department\.response_time"):
        parse_targets({"department": {"response_time": {"at_most": 1}}}, KPI_NAMES)
