"""Pure case state machines: declared as data, run by the `transitions` library, no I/O."""

from states.case import Actor, CaseState, Event
from states.errors import ActionForbidden, ActionNotAllowed, InvalidData, StaleVersion, UnknownAction
from states.machine import CaseMachine, Context, KINDS, ROLES, describe, spec_for

__all__ = [
    "ActionForbidden",
    "ActionNotAllowed",
    "Actor",
    "CaseMachine",
    "CaseState",
    "Context",
    "Event",
    "InvalidData",
    "KINDS",
    "ROLES",
    "StaleVersion",
    "UnknownAction",
    "describe",
    "spec_for",
]
