"""Customer contact details: what a report accepts, and how they read masked."""

from __future__ import annotations

import pytest

from states.case import Actor, Report
from states.errors import InvalidData
from states.masking import mask_email, mask_phone, masked_customer, masked_event_data
from states.opening import open_case
from states.spec import Context

NOW = Context(now="2026-12-01T02:00:00.000000Z")
REPORTER = Actor("ann", "agent")


def _report(**customer) -> Report:
    return Report(kind="complaint", title="退款未到账", customer={"id": "C-1", "name": "张三", **customer})


def test_a_mobile_number_keeps_its_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "+86****5678"


def test_a_short_number_keeps_its_last_two_digits():
    assert mask_phone("8765-4321") == "****21"
    assert mask_phone("110") == "****10"


def test_an_email_keeps_its_first_letter_and_its_domain():
    assert mask_email("zhang.san@example.com") == "z***@example.com"


def test_masking_a_customer_leaves_their_id_name_and_vip_alone():
    customer = {"id": "C-1", "name": "张三", "vip": True, "phone": "13812345678", "email": "zhang.san@example.com"}
    assert masked_customer(customer) == {"id": "C-1", "name": "张三", "vip": True, "phone": "138****5678", "email": "z***@example.com"}
    assert customer["phone"] == "13812345678", "the stored case is not changed"
    assert masked_customer(None) is None
    assert masked_customer({"id": "C-2"}) == {"id": "C-2"}


def test_a_report_event_carrying_a_customer_is_masked_and_other_data_kept():
    data = {"title": "t", "customer": {"phone": "13812345678"}}
    assert masked_event_data(data) == {"title": "t", "customer": {"phone": "138****5678"}}
    assert masked_event_data({"reason": "r"}) == {"reason": "r"}


def test_a_report_keeps_the_customers_phone_and_email():
    machine, event = open_case("CASE-1", _report(phone="138 1234 5678", email="zhang.san@example.com"), REPORTER, NOW)
    assert machine.case.customer == {"id": "C-1", "name": "张三", "phone": "138 1234 5678", "email": "zhang.san@example.com"}
    assert event.data["customer"]["phone"] == "138 1234 5678"


def test_blank_contact_fields_are_not_given():
    machine, _ = open_case("CASE-1", _report(phone=" ", email=""), REPORTER, NOW)
    assert machine.case.customer == {"id": "C-1", "name": "张三"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "138-call-me"),
        ("phone", "1" * 33),
        ("phone", "+-"),
        ("email", "zhang.san.example.com"),
        ("email", "a@b@example.com"),
        ("email", "@example.com"),
        ("email", "zhang san@example.com"),
        ("email", "z" * 250 + "@example.com"),
    ],
)
def test_a_malformed_contact_is_refused_naming_its_field(field, value):
    with pytest.raises(InvalidData) as refused:
        open_case("CASE-1", _report(**{field: value}), REPORTER, NOW)
    assert refused.value.field == f"customer.{field}"
