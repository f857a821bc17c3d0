"""Fuzzing: schemathesis sends every operation of the live OpenAPI document requests it generates from
that document, valid and invalid, as each role, on SQLite and on PostgreSQL. No answer may be a 5xx,
and every answer must be one the document promises: its status code, content type, headers and body.
Invalid requests must be refused, and an operation that needs a token must refuse a request without
one. A change answered 2xx is in the read model when it is answered, and no case is left with its
projection failing (issue 13: a NUL the fuzzer sent wedged a case on PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from states.machine import KINDS, SPECS
from tests.api.conftest import DATABASES, stack_on
from tests.api.test_unicode import no_failing_projection
from tests.conftest import TOKENS, auth, settings_for

# Requests per operation, valid and invalid input mixed. The whole file, the stack's start included,
# takes about 15 s on a 2-core machine (100 per operation: about 30 s); raise it locally to fuzz harder.
EXAMPLES = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests on every run, so CI is stable
    database=None,
    deadline=None,  # a change goes through Temporal; the bound is the number of examples
    phases=[Phase.explicit, Phase.generate],  # no shrinking, so a failure cannot take long; it names its request as curl
    suppress_health_check=list(HealthCheck),
)
ACTIONS = sorted({action.name for spec in SPECS.values() for action in spec.actions})


def _labels() -> list[str]:
    """Every operation of the app's document, each its own test; the live document must have them.
    Not the event streams: one never ends, so no fuzzed request to it would return
    (tests/api/test_live_events.py covers GET /events/live)."""
    document = create_app(settings_for("127.0.0.1:7233", "sqlite+aiosqlite://")).openapi_schema.to_schema()
    return [
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "text/event-stream" not in operation.get("responses", {}).get("200", {}).get("content", {})
    ]


@pytest.fixture(scope="module", params=DATABASES)
async def stack(request, temporal_env, stack_settings, tmp_path_factory):
    async with stack_on(request.param, temporal_env, stack_settings, tmp_path_factory.mktemp("fuzz")) as stack:
        yield stack


@pytest.fixture(scope="module")
async def fuzzed(stack) -> tuple[schemathesis.BaseSchema, dict[str, list[str]]]:
    """The live document, and path parameters that exist: one case of each kind, every kind."""
    # Every request carries a valid token: generating the token as a parameter would spend most invalid
    # requests on a 401. `ignored_auth` checks the refusal without one or with a wrong one instead.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = await asyncio.to_thread(schemathesis.openapi.from_url, f"{stack.api.client.base_url}/schema/openapi.json", config=config)
    api = stack.api
    cases = [await api.open("complaint"), *[await api.open(kind, role="supervisor") for kind in KINDS[1:]]]
    return schema, {"case_id": [case["id"] for case in cases], "kind": KINDS}


@pytest.mark.parametrize("label", _labels())
async def test_every_answer_is_documented_and_none_is_a_server_error(fuzzed, stack, label):
    schema, known = fuzzed
    http = stack.api.client
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the live document"
    base_url = str(http.base_url)
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        # Generated ids and kinds are unknown; known ones reach the handlers behind the 404.
        for name, values in known.items():
            if f"{{{name}}}" in operation.path:
                strategies += [operation.as_strategy(generation_mode=mode, path_parameters={name: value}) for value in values]

    def fuzz() -> None:
        with requests.Session() as session:

            def changes_are_in_the_read_model(ctx, response, case) -> None:
                """A change answered 2xx is read back from the read model at (at least) its version."""
                if case.method.upper() != "POST" or not 200 <= response.status_code < 300:
                    return None
                answered = response.json()
                if not isinstance(answered, dict) or "version" not in answered or "id" not in answered:
                    return None
                stored = session.get(f"{base_url}/cases/{answered['id']}", headers=auth("auditor"), timeout=30)
                assert stored.status_code == 200 and stored.json()["version"] >= answered["version"], stored.text
                return None

            @FUZZ
            @given(case=st.one_of(strategies), role=st.sampled_from(sorted(TOKENS)), action=st.sampled_from(ACTIONS) | st.none())
            def run(case: schemathesis.Case, role: str, action: str | None) -> None:
                if (
                    action
                    and case.meta is not None
                    and case.meta.generation.mode.is_positive
                    and isinstance(case.body, dict)
                    and "action" in case.body
                ):
                    case.body["action"] = action  # a real action now and then, so transitions get past "unknown action"
                case.call_and_validate(
                    base_url=base_url, session=session, headers=auth(role), checks=[*CHECKS, changes_are_in_the_read_model], timeout=30
                )

            run()

    # The app and the worker run in this event loop; the fuzzer's blocking HTTP calls run beside it.
    await asyncio.to_thread(fuzz)
    await no_failing_projection(stack)


@pytest.mark.parametrize("path, name", [("/cases", "created_after"), ("/cases", "sla_due_before"), ("/audit/events", "since")])
async def test_a_time_in_a_query_is_rfc_3339_with_an_offset(http, path, name):
    """Found by fuzzing: a number was taken for seconds since 1970, a time without offset for UTC."""
    for bad in ["0", "0.0", "1700000000", "2026-11-22T10:00:00", "2026-11-22"]:
        response = await http.get(path, params={name: bad}, headers=auth("auditor"))
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["field"] == name
    assert (await http.get(path, params={name: "2026-11-22T10:00:00+08:00"}, headers=auth("auditor"))).status_code == 200


async def test_a_period_ending_near_the_year_one_is_refused_not_a_500(http):
    """Found by fuzzing: `to` in the year 1 without `from` reached before the first date there is."""
    response = await http.get("/kpis", params={"to": "0001-01-01T01:07:39Z"}, headers=auth("auditor"))
    assert response.status_code == 422 and response.json()["field"] == "to", response.text
