"""Customer contact details as someone may see them (seed 001 §2(3)3: customer data is kept
confidential): a phone number or an email address masked, keeping just enough to tell two apart
on the telephone."""

from __future__ import annotations

from typing import Any

MASK = "****"
CONTACT_FIELDS = ("phone", "email")


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`: the first three and the last four digits of a mobile number;
    a shorter number keeps its last two."""
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + MASK + digits[-4:]
    return MASK + digits[-2:]


def mask_email(email: str) -> str:
    """`zhang.san@example.com` → `z***@example.com`: the first letter of the mailbox and the domain."""
    mailbox, _, domain = email.strip().partition("@")
    return f"{mailbox[:1]}***@{domain}"


def masked_customer(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The customer with their phone and email masked; everything else as it is."""
    if not customer or not any(customer.get(name) for name in CONTACT_FIELDS):
        return customer
    shown = dict(customer)
    if isinstance(shown.get("phone"), str) and shown["phone"]:
        shown["phone"] = mask_phone(shown["phone"])
    if isinstance(shown.get("email"), str) and shown["email"]:
        shown["email"] = mask_email(shown["email"])
    return shown


def masked_event_data(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data with any customer it carries masked (a report, an escalation's new incident)."""
    if not isinstance(data.get("customer"), dict):
        return data
    return {**data, "customer": masked_customer(data["customer"])}
