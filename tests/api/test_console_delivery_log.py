"""The console's delivery log rows: channel and error labels chosen in the controller, tolerant of
attempts with and without a machine code."""

from __future__ import annotations

from datetime import UTC, datetime

from api.console.message_pages import _row
from service.notifications import Attempt
from states.vocabulary import ChannelType, DeliveryStatus, MessageKind


def attempt(channel: str, error: str | None) -> Attempt:
    return Attempt(1, "m-1", MessageKind.ASSIGNED, "c-1", channel, "zh-CN", ["sam"], 1, DeliveryStatus.FAILED, None, error, datetime.now(UTC))


def test_a_coded_error_shows_its_label_and_keeps_the_text_as_detail():
    row = _row(attempt("客服群", "signature_refused: 310000 sign not match"), "zh-CN")
    assert row["error"] == "接收方验签失败" and row["detail"] == "signature_refused: 310000 sign not match"
    assert row["channel"] == "客服群"  # a configured channel by its name
    assert _row(attempt("客服群", "turned_off: turned off"), "en")["error"] == "Turned off by the recipient"


def test_an_error_without_a_known_code_shows_its_own_text_and_the_inbox_its_label():
    row = _row(attempt(ChannelType.INBOX, "http_500: Internal Server Error"), "zh-CN")
    assert row["error"] == "http_500: Internal Server Error" and row["detail"] == "" and row["channel"] == "站内信"
    assert _row(attempt("ops", "connection refused"), "en")["error"] == "connection refused"
    assert _row(attempt("ops", None), "en")["error"] == ""
