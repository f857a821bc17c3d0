"""Recorded data as the console shows it: a routing decision and a handover in the reader's words."""

from api.console.display import data_rows
from states.vocabulary import AssignmentMethod


def test_a_dispatch_shows_its_rule_counted_from_one_and_its_method_by_label():
    dispatch = {"team": "华东一组", "owner": "ann", "rule": 0, "method": AssignmentMethod.ROUND_ROBIN}
    assert data_rows(dispatch, "zh-CN") == [("团队", "华东一组"), ("负责人", "ann"), ("分派规则", "第 1 条"), ("分配方式", "轮流分配")]
    assert data_rows(dispatch, "en")[2:] == [("Routing rule", "No. 1"), ("Assignment", "Round robin")]


def test_a_handovers_reason_reads_in_the_readers_language_and_any_other_reason_as_typed():
    assert data_rows({"reason": "handover: ann → bob"}, "zh-CN") == [("原因", "交接：ann → bob")]
    assert data_rows({"reason": "handover: ann → bob"}, "en") == [("Reason", "Handover: ann → bob")]
    assert data_rows({"reason": "客户要求换人"}, "zh-CN") == [("原因", "客户要求换人")]


def test_a_customers_contacts_are_shown_beside_their_name():
    customer = {"id": "C-1", "name": "张三", "phone": "138****5678", "email": None, "vip": True}
    assert data_rows({"customer": customer}, "zh-CN") == [("客户", "张三 (C-1) · 138****5678 · 重要客户")]
