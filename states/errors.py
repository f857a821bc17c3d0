"""Why an action is refused. Each carries what a client needs to correct itself, and its `code`."""

from states.vocabulary import RefusalCode


class CaseRuleError(Exception):
    """Base of every refusal by the case rules."""

    code: str = RefusalCode.REFUSED


class UnknownAction(CaseRuleError):
    code = RefusalCode.UNKNOWN_ACTION

    def __init__(self, kind: str, action: str, known: list[str]):
        super().__init__(f"{kind} has no action {action!r}")
        self.action = action
        self.known = known


class ActionForbidden(CaseRuleError):
    """The caller may not take this action: their role (`forbidden_role`), or, on this case, the
    department's ownership and team rules (`not_your_case`, `not_in_team`: states/ownership.py)."""

    def __init__(self, action: str, role: str, roles: list[str], reason: str = "", code: str = RefusalCode.FORBIDDEN_ROLE):
        super().__init__(reason or f"role {role!r} may not {action}; allowed roles: {', '.join(roles)}")
        self.code = code
        self.action = action
        self.role = role
        self.roles = roles


class ActionNotAllowed(CaseRuleError):
    def __init__(self, action: str, state: str, allowed_actions: list[str], reason: str = "", code: str = RefusalCode.NOT_ALLOWED_IN_PHASE):
        reason = reason or f"{action!r} is not possible in state {str(state)!r}"
        super().__init__(reason)
        self.code = code
        self.action = action
        self.state = state
        self.allowed_actions = allowed_actions


class StaleVersion(CaseRuleError):
    code = RefusalCode.STALE_VERSION

    def __init__(self, expected: int, current: int):
        super().__init__(f"expected version {expected}, the case is at version {current}")
        self.expected = expected
        self.current = current


class InvalidData(CaseRuleError):
    def __init__(self, field: str, message: str, code: str = RefusalCode.INVALID_VALUE):
        super().__init__(f"{field}: {message}")
        self.code = code
        self.field = field
        self.message = message
