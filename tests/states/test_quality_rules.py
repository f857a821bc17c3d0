"""Quality checks (质检) as pure rules: the scorecard, sampling, and a check's life."""

from __future__ import annotations

import tomllib
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from states.case import Actor
from states.errors import ActionForbidden, ActionNotAllowed, InvalidData
from states.policy_error import PolicyError
from states.quality import Check, CheckStatus, appeal, chain_intact, check_id_for, decide, sampled, score, window_ended
from states.sampling import BREACHED, DISSATISFIED, RANDOM, REOPENED, ClosedCase, sample, week_before
from states.scorecard import BREACH, DEFAULT_RUBRIC, REOPEN, automatic_deductions, parse_rubric, scored
from states.vocabulary import Role

FULL = {"knowledge": 30, "communication": 25, "problem_solving": 25, "attitude": 15, "efficiency": 5}
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
REVIEWER = Actor("quinn", Role.QUALITY)
AGENT = Actor("ann", Role.AGENT)
SUPERVISOR = Actor("sam", Role.SUPERVISOR)


def cases(agent: str, count: int, **flags) -> list[ClosedCase]:
    return [ClosedCase(f"{agent}-{index:03}", agent, "2026-12-01T08:00:00Z", **flags) for index in range(count)]


def test_default_rubric_is_seed_002s_hundred_points():
    assert [(item.id, item.zh, item.max) for item in DEFAULT_RUBRIC.items] == [
        ("knowledge", "业务知识", 30),
        ("communication", "沟通能力", 25),
        ("problem_solving", "问题解决", 25),
        ("attitude", "服务态度", 15),
        ("efficiency", "工作效率", 5),
    ]
    assert DEFAULT_RUBRIC.max_total == 100


def test_a_rubric_from_toml_names_its_own_items_and_deductions():
    rubric = parse_rubric(
        tomllib.loads(
            """
            [[items]]
            id = "accuracy"
            zh = "准确性"
            en = "Accuracy"
            max = 60
            [[items]]
            id = "tone"
            zh = "语气"
            en = "Tone"
            max = 40
            [automatic]
            item = "tone"
            per_breach = 2
            per_reopen = 0
            """
        )
    )
    assert rubric.max_total == 100
    assert automatic_deductions(rubric, breaches=3, reopens=2) == [{"item": "tone", "points": 6, "reason": BREACH, "automatic": True, "count": 3}]


@pytest.mark.parametrize(
    "data",
    [
        {"items": []},
        {"items": [{"id": "a", "zh": "甲", "en": "A", "max": 0}]},
        {"items": [{"id": "a", "zh": "甲", "en": "A", "max": 5}], "automatic": {"item": "b"}},
        {"items": [{"id": "a", "zh": "甲", "en": "A", "max": 5}, {"id": "a", "zh": "乙", "en": "B", "max": 5}]},
    ],
)
def test_a_malformed_rubric_is_refused(data):
    with pytest.raises(PolicyError):
        parse_rubric(data)


def test_scores_with_deductions_add_up():
    automatic = automatic_deductions(DEFAULT_RUBRIC, breaches=2, reopens=1)
    items = {**FULL, "knowledge": 26, "attitude": 10}
    given, deductions, total = scored(DEFAULT_RUBRIC, items, {"knowledge": "wrong refund rule", "attitude": "curt"}, automatic)
    assert given == items
    assert total == 100 - 4 - 5 - 2 - 1
    manual = [(d["item"], d["points"], d["automatic"]) for d in deductions if not d["automatic"]]
    assert manual == [("knowledge", 4, False), ("attitude", 5, False)]
    assert [(d["item"], d["points"], d["reason"]) for d in deductions if d["automatic"]] == [("efficiency", 2, BREACH), ("efficiency", 1, REOPEN)]


def test_total_never_goes_below_zero():
    zero = dict.fromkeys(FULL, 0)
    _, _, total = scored(DEFAULT_RUBRIC, zero, dict.fromkeys(FULL, "poor"), automatic_deductions(DEFAULT_RUBRIC, 9, 9))
    assert total == 0


@pytest.mark.parametrize(
    ("items", "reasons", "field"),
    [
        ({**FULL, "knowledge": 31}, {}, "items.knowledge"),
        ({**FULL, "knowledge": -1}, {"knowledge": "x"}, "items.knowledge"),
        ({key: value for key, value in FULL.items() if key != "attitude"}, {}, "items.attitude"),
        ({**FULL, "speed": 3}, {}, "items.speed"),
        ({**FULL, "communication": 20}, {}, "reasons.communication"),
        ({**FULL, "communication": 20}, {"communication": "  "}, "reasons.communication"),
    ],
)
def test_a_bad_score_names_the_field(items, reasons, field):
    with pytest.raises(InvalidData) as refused:
        scored(DEFAULT_RUBRIC, items, reasons, [])
    assert refused.value.field == field


def test_sampling_is_reproducible_for_a_seed_and_period_and_takes_every_mandatory_case():
    closed = (
        cases("ann", 20)
        + cases("bob", 3)
        + [
            ClosedCase("ann-r", "ann", "2026-12-01T08:00:00Z", reopened=True),
            ClosedCase("ann-b", "ann", "2026-12-01T08:00:00Z", breached=True),
            ClosedCase("bob-d", "bob", "2026-12-01T08:00:00Z", dissatisfied=True),
        ]
    )
    first = sample(closed, 5, "seed-1", "2026-W49", ["quinn", "sam"])
    assert first == sample(list(reversed(closed)), 5, "seed-1", "2026-W49", ["sam", "quinn"])
    picked = {chosen.case.case_id: chosen.sampled_because for chosen in first}
    assert picked["ann-r"] == (REOPENED,) and picked["ann-b"] == (BREACHED,) and picked["bob-d"] == (DISSATISFIED,)
    assert sum(1 for chosen in first if chosen.case.agent == "ann") == 5
    assert sum(1 for chosen in first if chosen.case.agent == "bob") == 4  # all they have: 3 + the mandatory one
    assert all(reasons == (RANDOM,) for case_id, reasons in picked.items() if case_id not in ("ann-r", "ann-b", "bob-d"))
    other_periods = [{c.case.case_id for c in sample(closed, 5, "seed-1", f"2026-W{week}", ["quinn"])} for week in range(40, 49)]
    assert any(ids != set(picked) for ids in other_periods), "the period is part of the seed"


def test_mandatory_cases_beyond_n_are_all_checked():
    closed = cases("ann", 7, breached=True) + cases("bob", 5)
    chosen = sample(closed, 3, "s", "p", ["quinn"])
    assert sum(1 for c in chosen if c.case.agent == "ann") == 7


def test_the_reviewer_is_never_the_agent():
    closed = cases("sam", 4) + cases("quinn", 4) + cases("ann", 4)
    chosen = sample(closed, 4, "s", "p", ["sam", "quinn"])
    assert all(c.reviewer != c.case.agent for c in chosen)
    assert {c.reviewer for c in chosen if c.case.agent == "ann"} == {"sam", "quinn"}  # they take turns
    alone = sample(cases("sam", 2), 2, "s", "p", ["sam"])
    assert [c.reviewer for c in alone] == [None, None]


def new_check() -> Check:
    automatic = automatic_deductions(DEFAULT_RUBRIC, breaches=1, reopens=0)
    check = Check(check_id_for("c1", "2026-12-01T08:00:00Z"), "c1", "ann", "quinn", "2026-12-01T08:00:00Z", NOW.isoformat(), [BREACHED], automatic)
    sampled(check, Actor("system"), NOW)
    return check


def test_a_check_is_scored_appealed_once_in_time_and_decided_with_its_events_chained():
    check = new_check()
    events = [score(check, DEFAULT_RUBRIC, REVIEWER, {**FULL, "attitude": 12}, {"attitude": "impatient"}, "ok", NOW, timedelta(days=7))]
    assert check.status == CheckStatus.SCORED and check.total == 100 - 3 - 1
    with pytest.raises(ActionForbidden):
        appeal(check, Actor("bob", Role.AGENT), "not mine", NOW)
    events.append(appeal(check, AGENT, "the customer was abusive", NOW + timedelta(days=1)))
    with pytest.raises(ActionNotAllowed):
        appeal(check, AGENT, "again", NOW + timedelta(days=1))
    with pytest.raises(ActionForbidden):
        decide(check, DEFAULT_RUBRIC, REVIEWER, True, None, None, "fine", NOW)
    with pytest.raises(InvalidData):
        decide(check, DEFAULT_RUBRIC, SUPERVISOR, False, None, None, "changed", NOW)
    events.append(decide(check, DEFAULT_RUBRIC, SUPERVISOR, False, FULL, None, "the customer was abusive indeed", NOW + timedelta(days=2)))
    assert check.status == CheckStatus.DECIDED and check.total == 99
    assert window_ended(check, Actor("system"), NOW + timedelta(days=8)) is None
    assert [event.seq for event in events] == [2, 3, 4]  # after the sampling event
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]


def test_an_appeal_after_the_window_is_refused_and_the_window_makes_the_score_final():
    check = new_check()
    score(check, DEFAULT_RUBRIC, REVIEWER, FULL, {}, None, NOW, timedelta(seconds=3))
    with pytest.raises(ActionNotAllowed):
        appeal(check, AGENT, "late", NOW + timedelta(seconds=3))
    window_ended(check, Actor("system"), NOW + timedelta(seconds=3))
    assert check.status == CheckStatus.FINAL


def test_the_agent_cannot_score_their_own_case_and_an_agent_cannot_score_at_all():
    check = new_check()
    with pytest.raises(ActionForbidden):
        score(check, DEFAULT_RUBRIC, Actor("ann", Role.SUPERVISOR), FULL, {}, None, NOW, timedelta(days=7))
    with pytest.raises(ActionForbidden):
        score(check, DEFAULT_RUBRIC, Actor("bob", Role.AGENT), FULL, {}, None, NOW, timedelta(days=7))
    assert check.status == CheckStatus.SAMPLED and check.version == 1


def test_a_changed_event_breaks_the_chain():
    check = Check("qc_x", "x", "ann", "quinn", "2026-12-01T08:00:00Z", NOW.isoformat(), [RANDOM], [])
    rows = [asdict(sampled(check, Actor("system"), NOW)), asdict(score(check, DEFAULT_RUBRIC, REVIEWER, FULL, {}, None, NOW, timedelta(days=1)))]
    assert chain_intact(rows)
    rows[1]["data"]["total"] = 50
    assert not chain_intact(rows)


def test_the_week_before_is_cut_in_the_department_time_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    # Monday 01:30 in Shanghai is still Sunday in UTC: the week before is the one that just ended there.
    start, end = week_before(datetime(2026, 11, 30, 1, 30, tzinfo=shanghai), shanghai)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (datetime(2026, 11, 22, 16, tzinfo=UTC), datetime(2026, 11, 29, 16, tzinfo=UTC))
