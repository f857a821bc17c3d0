"""Quality checks (质检), the rules review asked for: bounded texts, the comment as a deduction's
reason, who may decide an appeal, what an upheld or changed decision keeps, tolerant snapshots."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from states.case import Actor
from states.errors import ActionForbidden, InvalidData
from states.quality import Check, appeal, check_from_snapshot, check_id_for, decide, sampled, score
from states.sampling import RANDOM, ClosedCase, sample
from states.scorecard import DEFAULT_RUBRIC, MAX_TEXT
from states.vocabulary import Role

FULL = {"knowledge": 30, "communication": 25, "problem_solving": 25, "attitude": 15, "efficiency": 5}
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
REVIEWER = Actor("quinn", Role.QUALITY)
AGENT = Actor("ann", Role.AGENT)
SUPERVISOR = Actor("sam", Role.SUPERVISOR)
LONG = "长" * (MAX_TEXT + 1)


def new_check() -> Check:
    check = Check(check_id_for("c1", "2026-12-01T08:00:00Z"), "c1", "ann", "quinn", "2026-12-01T08:00:00Z", NOW.isoformat(), [RANDOM], [])
    sampled(check, Actor("system"), NOW)
    return check


def appealed_check(items: dict[str, int], reasons: dict[str, str], scorer: Actor = REVIEWER) -> Check:
    check = new_check()
    score(check, DEFAULT_RUBRIC, scorer, items, reasons, "reviewed", NOW, WEEK)
    appeal(check, AGENT, "the customer was abusive", NOW + timedelta(hours=1))
    return check


@pytest.mark.parametrize(("comment", "reasons", "field"), [(LONG, {}, "comment"), ("ok", {"attitude": LONG}, "reasons.attitude")])
def test_a_score_with_text_longer_than_a_check_takes_is_refused_naming_the_field(comment, reasons, field):
    check = new_check()
    with pytest.raises(InvalidData) as refused:
        score(check, DEFAULT_RUBRIC, REVIEWER, {**FULL, "attitude": 10}, reasons, comment, NOW, WEEK)
    assert refused.value.field == field and check.version == 1


def test_an_appeal_or_a_decision_with_too_long_a_text_is_refused():
    check = new_check()
    score(check, DEFAULT_RUBRIC, REVIEWER, FULL, {}, None, NOW, WEEK)
    with pytest.raises(InvalidData) as refused:
        appeal(check, AGENT, LONG, NOW)
    assert refused.value.field == "reason"
    appeal(check, AGENT, "长" * MAX_TEXT, NOW)  # exactly the limit is taken
    with pytest.raises(InvalidData) as refused:
        decide(check, DEFAULT_RUBRIC, SUPERVISOR, True, None, None, LONG, NOW)
    assert refused.value.field == "comment"


def test_the_comment_is_the_reason_of_every_item_below_its_max_without_its_own():
    check = new_check()
    items = {**FULL, "communication": 20, "attitude": 12}
    score(check, DEFAULT_RUBRIC, REVIEWER, items, {"attitude": "语气生硬"}, "打断客户", NOW, WEEK)
    assert {d["item"]: d["reason"] for d in check.deductions} == {"communication": "打断客户", "attitude": "语气生硬"}


@pytest.mark.parametrize("comment", [None, "  "])
def test_a_deduction_without_its_reason_or_a_comment_is_refused(comment):
    with pytest.raises(InvalidData) as refused:
        score(new_check(), DEFAULT_RUBRIC, REVIEWER, {**FULL, "communication": 20}, None, comment, NOW, WEEK)
    assert refused.value.field == "reasons.communication"


@pytest.mark.parametrize("decider", [Actor("quinn", Role.SUPERVISOR), Actor("ann", Role.SUPERVISOR)])
def test_nobody_decides_an_appeal_on_a_score_they_gave_or_a_case_they_handled(decider):
    check = appealed_check(FULL, {})
    with pytest.raises(ActionForbidden):
        decide(check, DEFAULT_RUBRIC, decider, True, None, None, "fine", NOW)
    decide(check, DEFAULT_RUBRIC, SUPERVISOR, True, None, None, "fine", NOW)


def test_an_upheld_decision_with_items_is_refused_naming_items():
    check = appealed_check(FULL, {})
    with pytest.raises(InvalidData) as refused:
        decide(check, DEFAULT_RUBRIC, SUPERVISOR, True, {**FULL, "knowledge": 20}, None, "fine", NOW)
    assert refused.value.field == "items" and check.total == 100


def test_a_changed_score_gives_the_decisions_comment_to_changed_items_alone():
    check = appealed_check({**FULL, "communication": 20, "attitude": 12}, {"communication": "打断客户", "attitude": "语气生硬"})
    decide(check, DEFAULT_RUBRIC, SUPERVISOR, False, {**FULL, "communication": 20, "attitude": 14}, None, "申诉部分成立", NOW)
    assert {d["item"]: (d["points"], d["reason"]) for d in check.deductions} == {"communication": (5, "打断客户"), "attitude": (1, "申诉部分成立")}


def test_a_snapshot_with_a_field_the_check_lacks_still_reads():
    snapshot = {**asdict(new_check()), "added_later": True}
    assert check_from_snapshot(snapshot).agent == "ann"


def test_random_checks_drawn_already_in_the_period_count_against_n():
    pool = [ClosedCase(f"ann-{index}", "ann", "2026-12-01T08:00:00Z") for index in range(6)] + [ClosedCase("bob-0", "bob", "2026-12-01T08:00:00Z")]
    picked = sample(pool, 3, "seed", "p", ["quinn"], drawn={"ann": 2, "bob": 3})
    assert [chosen.case.agent for chosen in picked] == ["ann"]
