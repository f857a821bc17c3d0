"""Case-rule refusals as Temporal application errors that a client can map back."""

from temporalio.exceptions import ApplicationError

from states.errors import ActionForbidden, ActionNotAllowed, CaseRuleError, InvalidData, StaleVersion, UnknownAction


def rule_error(error: CaseRuleError) -> ApplicationError:
    details: dict = {"message": str(error), "code": error.code}
    if isinstance(error, ActionNotAllowed):
        details.update(state=error.state, allowed_actions=error.allowed_actions, action=error.action)
    elif isinstance(error, StaleVersion):
        details.update(current_version=error.current, expected_version=error.expected)
    elif isinstance(error, InvalidData):
        details.update(field=error.field)
    elif isinstance(error, ActionForbidden):
        details.update(action=error.action, role=error.role, roles=error.roles)
    elif isinstance(error, UnknownAction):
        details.update(action=error.action, known_actions=error.known)
    return ApplicationError(str(error), details, type=type(error).__name__, non_retryable=True)


def case_missing(case_id: str) -> ApplicationError:
    return ApplicationError(f"case {case_id} has not been reported", {"message": "no such case"}, type="CaseNotFound", non_retryable=True)
