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


def test_declared_times_show_in_the_departments_zone_in_case_info_and_in_history():
    from zoneinfo import ZoneInfo

    from api.console.timefmt import Clock

    clock = Clock(ZoneInfo("Asia/Shanghai"), "zh-CN")
    case_data = {"scheduled_at": "2026-12-10T07:00:00.000000Z", "held_at": "2026-12-10T08:30:00Z", "place": "3楼"}
    assert data_rows(case_data, "zh-CN", clock) == [("计划时间", "2026-12-10 15:00"), ("会议时间", "2026-12-10 16:30"), ("会议地点", "3楼")]
    history = {"data": {"title": "调整排班", "due": "2026-12-10T07:00:00.000000Z"}}  # an add_action_item event
    assert ("截止时间", "2026-12-10 15:00") in data_rows(history, "zh-CN", clock)
    assert data_rows({"due": "soon"}, "zh-CN", clock) == [("截止时间", "soon")]  # not a time: as recorded


def test_the_minutes_are_shown_apart_in_their_order_and_an_old_incidents_minutes_as_their_text():
    from api.console.display import case_rows, minutes_rows

    data = {"host": "sam", "minutes": {"decisions": "加人", "host": "ann", "held_at": "2026-12-10T07:00:00Z"}, "minutes_published_at": "x"}
    assert [name for name, _ in minutes_rows(data, "zh-CN")] == ["会议时间", "主持人", "决议"]
    assert ("主持人", "sam") in case_rows(data, "zh-CN") and all(name != "会议纪要" for name, _ in case_rows(data, "zh-CN"))
    assert minutes_rows({"minutes": "the old way"}, "zh-CN") == [("会议纪要", "the old way")]
    assert minutes_rows({"host": "sam"}, "zh-CN") == []
