"""Opening a case: check the report and build the first state and event."""

import re
from typing import Any

from states import service_times
from states.case import Actor, CaseState, Event, Report
from states.errors import ActionForbidden, InvalidData
from states.machine import CaseMachine, spec_for
from states.spec import PRIORITIES, Context, Field, clean_data
from states.text import check_storable
from states.vocabulary import SYSTEM, Phase

TITLE = Field("title", max_length=500)
DESCRIPTION = Field("description", required=False)
CHANNEL = Field("channel", required=False, max_length=100)
CUSTOMER_FIELDS = (
    Field("id", required=False, max_length=200),
    Field("name", required=False, max_length=500),
    Field("vip", "boolean", required=False),
    Field("phone", required=False, max_length=32),
    Field("email", required=False, max_length=254),
)
PHONE = re.compile(r"[0-9+\- ]*[0-9][0-9+\- ]*")


def open_case(case_id: str, report: Report, actor: Actor, ctx: Context) -> tuple[CaseMachine, Event]:
    spec = spec_for(report.kind)
    check_storable(
        {"title": report.title, "description": report.description, "customer": report.customer, "channel": report.channel, "data": report.data}
    )
    if actor.role not in spec.create_roles and actor.name != SYSTEM:
        raise ActionForbidden(f"report a {report.kind}", actor.role or "", list(spec.create_roles))
    if report.priority not in PRIORITIES:
        raise InvalidData("priority", f"must be one of: {', '.join(PRIORITIES)}")
    customer = None if report.customer is None else _check_contacts(clean_data(CUSTOMER_FIELDS, report.customer, "customer"))
    case = CaseState(
        id=case_id,
        kind=report.kind,
        title=TITLE.clean(report.title, "title"),
        description=DESCRIPTION.clean(report.description or "", "description"),
        priority=report.priority,
        customer=customer,
        channel=None if report.channel is None else CHANNEL.clean(report.channel, "channel"),
        state=str(Phase.REPORT),  # plain strings in the case: it is data, compared and serialised
        version=1,
        owner=_first_owner(actor, report.data),
        created_by=actor.name,
        created_at=ctx.now,
        updated_at=ctx.now,
        data=clean_data(spec.report_fields, report.data, reserved=spec.reserved_keys),
    )
    if ctx.measured:
        case.data.update(ctx.measured)
    service_times.contact_opened(case, ctx.now)
    machine = CaseMachine(case)
    opening = {
        "kind": case.kind,
        "title": case.title,
        "description": case.description,
        "priority": case.priority,
        "customer": case.customer,
        "channel": case.channel,
        "owner": case.owner,
        "data": dict(case.data),
    }
    return machine, machine.record_opening(actor, opening, ctx)


def _first_owner(actor: Actor, data: dict[str, Any]) -> str:
    """Who owns a new case: its reporter, but a meeting the system schedules belongs to its host."""
    host = data.get("host")
    return host if actor.name == SYSTEM and isinstance(host, str) and host else actor.name


def _check_contacts(customer: dict[str, Any]) -> dict[str, Any]:
    """A phone number is digits, `+`, `-` and spaces; an email address has one @ between a mailbox and a domain."""
    for name in ("phone", "email"):
        if isinstance(customer.get(name), str) and not customer[name].strip():
            del customer[name]  # a blank form field: not given
    phone, email = customer.get("phone"), customer.get("email")
    if phone is not None and not PHONE.fullmatch(phone):
        raise InvalidData("customer.phone", "must be digits, with + - or spaces at most, e.g. 138 1234 5678")
    if email is not None:
        mailbox, _, domain = email.partition("@")
        if email.count("@") != 1 or not mailbox.strip() or not domain.strip() or any(char.isspace() for char in email):
            raise InvalidData("customer.email", "must be one address with one @, e.g. zhang.san@example.com")
    return customer
