"""Search attributes that let the Temporal web UI filter case workflows."""

from temporalio.common import SearchAttributeKey

CASE_KIND = SearchAttributeKey.for_keyword("CaseKind")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")
CASE_PRIORITY = SearchAttributeKey.for_keyword("CasePriority")
SEARCH_ATTRIBUTES = (CASE_KIND, CASE_STATE, CASE_PRIORITY)
