"""Every KPI on a small set of cases whose figures are worked out by hand, on SQLite and PostgreSQL.

The period is two ISO weeks, W44 (Mon 26 Oct) and W45 (Mon 2 Nov 2026), which straddle a month end.

case  kind        category         reported (UTC)   first resp.  late  closed after   by                   reopened  satisfied  score  breached
A     complaint   logistics        Wed 28 Oct 09:00    600 s      no    86 400 s      record_satisfaction  0         yes        5      no
B     complaint   logistics        Fri 30 Oct 10:00  3 600 s      yes  172 800 s      record_satisfaction  1         yes        3      yes
G     complaint   logistics        Sun  1 Nov 23:00  1 800 s      no   259 200 s      record_satisfaction  0         yes        4      no
C     complaint   account          Mon  2 Nov 08:00  1 200 s      no    43 200 s      dismiss              0         -          -      no
D     feedback    logistics        Tue  3 Nov 12:00    300 s      no    (open, back in remediate)          0         no         2      no
E     feedback    -                Thu  5 Nov 09:00  none         yes   (open)                             0         -          -      yes
F     complaint   product_quality  Fri  6 Nov 09:00  none         no    (open, deadline not yet passed)    0         -          -      no
H     incident    -                Wed  4 Nov 09:00    900 s      no   604 800 s      close                0         -          -      yes (item)
Outside the period: one case on Sun 25 Oct 23:59 and one at exactly the period's end (exclusive).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.kpis import KpiQuery, Kpis, MetricNotKpi, calendar_buckets, parse_metric
from tests.service.kpi_cases import project_all, reported_case

START = datetime(2026, 10, 26, tzinfo=UTC)
END = datetime(2026, 11, 9, tzinfo=UTC)


CASES = [
    reported_case(
        "A",
        "complaint",
        "2026-10-28T09:00",
        category="logistics",
        first_response=600,
        closed_after=86_400,
        closed_by="record_satisfaction",
        satisfied=True,
        score=5,
        responses=(2, 1_500),
    ),
    reported_case(
        "B",
        "complaint",
        "2026-10-30T10:00",
        category="logistics",
        first_response=3_600,
        late=True,
        closed_after=172_800,
        closed_by="record_satisfaction",
        reopened=1,
        satisfied=True,
        score=3,
        responses=(1, 3_600),
        priority="high",
    ),
    reported_case(
        "G",
        "complaint",
        "2026-11-01T23:00",
        category="logistics",
        first_response=1_800,
        closed_after=259_200,
        closed_by="record_satisfaction",
        satisfied=True,
        score=4,
    ),
    reported_case(
        "C", "complaint", "2026-11-02T08:00", category="account", first_response=1_200, closed_after=43_200, closed_by="dismiss", owner="bob"
    ),
    reported_case(
        "D",
        "feedback",
        "2026-11-03T12:00",
        category="logistics",
        first_response=300,
        satisfied=False,
        score=2,
        state="remediate",
        owner="bob",
        responses=(1, 300),
    ),
    reported_case("E", "feedback", "2026-11-05T09:00", late=True, state="report", owner="bob"),
    reported_case("F", "complaint", "2026-11-06T09:00", category="product_quality", state="report"),
    reported_case(
        "H", "incident", "2026-11-04T09:00", first_response=900, closed_after=604_800, closed_by="close", breached=("action_item",), priority="urgent"
    ),
    reported_case("before", "complaint", "2026-10-25T23:59", category="logistics", first_response=60),
    reported_case("at-end", "complaint", "2026-11-09T00:00", category="logistics", first_response=60),
]


@pytest.fixture
async def kpis(read_model):
    await project_all(read_model, CASES)
    return Kpis(read_model)


async def test_every_kpi_over_the_period(kpis):
    report = await kpis.report(KpiQuery(START, END))
    assert report["kpis"] == {
        "volume": 8,
        # Six responded: 300 600 900 1200 1800 3600; mean 8400/6; p50 at rank 3.5; p90 at rank 5.5.
        "first_responses": 6,
        "first_response_mean_seconds": pytest.approx(1400),
        "first_response_p50_seconds": pytest.approx(1050),
        "first_response_p90_seconds": pytest.approx(2700),
        # Decided: six responded plus E, whose deadline passed unanswered; on time: all but B.
        # F is still within its deadline, so it counts neither way.
        "first_response_on_time_rate": pytest.approx(5 / 7),
        # Every response, not each case's mean: A 2 in 1500 s, B 1 in 3600 s, D 1 in 300 s.
        "responses": 4,
        "response_mean_seconds": pytest.approx(5_400 / 4),
        # Closed: C 43200, A 86400, B 172800, G 259200, H 604800; p90 at rank 4.6 = 259200 + 0.6 × 345600.
        "handled": 5,
        "handling_mean_seconds": pytest.approx(233_280),
        "handling_p50_seconds": pytest.approx(172_800),
        "handling_p90_seconds": pytest.approx(466_560),
        # Resolved A B G H of the 7 not dismissed.
        "dismissed": 1,
        "resolution_rate": pytest.approx(4 / 7),
        # Latest verdicts: A yes 5, B yes 3, D no 2, G yes 4.
        "satisfaction_responses": 4,
        "satisfaction_mean_score": pytest.approx(3.5),
        "satisfied_share": pytest.approx(3 / 4),
        # Closed at least once: A B C G H; reopened: B.
        "reopen_rate": pytest.approx(1 / 5),
        # B and E missed first response, H an action item.
        "breach_rate": pytest.approx(3 / 8),
        "volume_by_kind": {"complaint": 5, "feedback": 2, "incident": 1},
        "volume_by_category": {"account": 1, "logistics": 4, "product_quality": 1, "none": 2},
    }


async def test_grouping_by_week_across_the_month_end(kpis):
    report = await kpis.report(KpiQuery(START, END, group_by="week"))
    weeks = {group["key"]: group for group in report["groups"]}
    assert list(weeks) == ["2026-W44", "2026-W45"]
    w44, w45 = weeks["2026-W44"]["kpis"], weeks["2026-W45"]["kpis"]
    # W44: A B G (G on Sunday 1 Nov still belongs to W44).
    assert w44["volume"] == 3
    assert w44["first_response_mean_seconds"] == pytest.approx(2000)  # (600 + 3600 + 1800) / 3
    assert w44["first_response_p90_seconds"] == pytest.approx(3240)  # rank 2.8: 1800 + 0.8 × 1800
    assert w44["first_response_on_time_rate"] == pytest.approx(2 / 3)
    assert w44["handling_p90_seconds"] == pytest.approx(241_920)  # 172800 + 0.8 × 86400
    assert w44["resolution_rate"] == 1.0
    assert w44["satisfaction_mean_score"] == pytest.approx(4)
    assert w44["reopen_rate"] == pytest.approx(1 / 3)
    # W45: C D E F H.
    assert w45["volume"] == 5
    assert w45["first_response_p50_seconds"] == pytest.approx(900)  # 300 900 1200
    assert w45["first_response_on_time_rate"] == pytest.approx(3 / 4)  # C D H of C D E H
    assert w45["handling_p50_seconds"] == pytest.approx(324_000)  # halfway between 43200 and 604800
    assert w45["resolution_rate"] == pytest.approx(1 / 4)  # H of the 4 not dismissed
    assert w45["satisfied_share"] == 0.0
    assert w45["reopen_rate"] == 0.0
    assert w45["breach_rate"] == pytest.approx(2 / 5)
    assert weeks["2026-W44"]["from"] == "2026-10-26T00:00:00.000000Z"
    assert weeks["2026-W45"]["to"] == "2026-11-09T00:00:00.000000Z"


async def test_a_week_without_cases_is_a_group_of_zeros(kpis):
    empty, before = (await kpis.report(KpiQuery(START - timedelta(days=14), START, group_by="week")))["groups"]
    assert (empty["key"], empty["from"], empty["to"]) == ("2026-W42", "2026-10-12T00:00:00.000000Z", "2026-10-19T00:00:00.000000Z")
    assert (empty["kpis"]["volume"], empty["kpis"]["first_response_p50_seconds"], empty["kpis"]["breach_rate"]) == (0, None, None)
    assert (before["key"], before["kpis"]["volume"], before["kpis"]["first_response_p50_seconds"]) == ("2026-W43", 1, 60)


async def test_grouping_by_month_splits_the_week_that_straddles_it(kpis):
    report = await kpis.report(KpiQuery(START, END, group_by="month"))
    months = {group["key"]: group for group in report["groups"]}
    assert {key: group["kpis"]["volume"] for key, group in months.items()} == {"2026-10": 2, "2026-11": 6}
    assert months["2026-10"]["to"] == months["2026-11"]["from"] == "2026-11-01T00:00:00.000000Z"
    assert months["2026-10"]["kpis"]["handling_mean_seconds"] == pytest.approx(129_600)  # A and B


async def test_grouping_by_a_column_and_filtering(kpis):
    by_kind = await kpis.report(KpiQuery(START, END, group_by="kind"))
    assert [(group["key"], group["kpis"]["volume"]) for group in by_kind["groups"]] == [("complaint", 5), ("feedback", 2), ("incident", 1)]
    by_category = await kpis.report(KpiQuery(START, END, group_by="category"))
    assert [group["key"] for group in by_category["groups"]] == ["account", "logistics", "product_quality", None]
    logistics = await kpis.report(KpiQuery(START, END, kind="complaint", category="logistics"))
    assert logistics["filters"] == {"kind": "complaint", "category": "logistics"}
    assert logistics["kpis"]["volume"] == 3
    assert logistics["kpis"]["first_response_on_time_rate"] == pytest.approx(2 / 3)
    by_owner = await kpis.report(KpiQuery(START, END, group_by="owner"))
    assert {group["key"]: group["kpis"]["volume"] for group in by_owner["groups"]} == {"alice": 5, "bob": 3}


async def test_an_empty_period_has_counts_of_zero_and_no_rates(kpis):
    report = await kpis.report(KpiQuery(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC), group_by="kind"))
    assert report["kpis"]["volume"] == 0
    assert report["kpis"]["resolution_rate"] is None
    assert report["kpis"]["first_response_p50_seconds"] is None
    assert report["groups"] == []


async def test_one_kpi_and_its_cohort(kpis):
    value, cases = await kpis.value("first_response_on_time_rate", {"kind": "complaint"}, START, END)
    assert (value, cases) == (pytest.approx(3 / 4), 5)  # A C G on time; B late; F undecided


def test_a_metric_names_a_kpi_with_filters_or_is_free_text():
    assert parse_metric("first_response_on_time_rate?kind=complaint&category=logistics") == (
        "first_response_on_time_rate",
        {"kind": "complaint", "category": "logistics"},
    )
    assert parse_metric("breach_rate") == ("breach_rate", {})
    assert parse_metric("complaint rate in the Shanghai office") is None
    assert parse_metric(None) is None
    with pytest.raises(MetricNotKpi, match="unknown filter 'region'"):
        parse_metric("breach_rate?region=north")


def test_calendar_buckets_clip_to_the_period():
    start, end = datetime(2026, 11, 4, 12, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    weeks = calendar_buckets(start, end, "week", UTC)
    assert [key for key, _, _ in weeks] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    assert weeks[0][1] == start and weeks[-1][2] == end
    assert [key for key, _, _ in calendar_buckets(datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC), "month", UTC)] == [
        "2026-12",
        "2027-01",
    ]
