"""Pure case state machines: declared as data, run by the `transitions` library, no I/O."""

from states.case import Actor, CaseState, Event
from states.errors import ActionForbidden, ActionNotAllowed, InvalidData, StaleVersion, UnknownAction
from states.machine import KINDS, ROLES, CaseMachine, Context, describe, spec_for

__all__ = [
    "KINDS",
    "ROLES",
    "ActionForbidden",
    "ActionNotAllowed",
    "Actor",
    "CaseMachine",
    "CaseState",
    "Context",
    "Event",
    "InvalidData",
    "StaleVersion",
    "UnknownAction",
    "describe",
    "spec_for",
]
