"""HTTP handlers: thin; each calls one use case and returns a struct."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, HeaderParameter, JSONBody, PathParameter, QueryParameter

from api.auth import may_change
from api.errors import PreconditionFailed, problems
from api.idempotency import once
from api.labels import labelled_machine, negotiate
from api.schemas import Case, CaseCounts, CaseIn, CaseList, Count, CountGroup, Event, History, KindName, PriorityName, TransitionIn, case_for
from service.cases import CaseRefused, Cases, new_case_id
from service.idempotency import Claim, IdempotencyKeys
from service.observability import request_id_var
from service.read_model import CaseFilter
from service.search import MAX_QUERY
from service.visibility import Viewer
from states.case import Actor, parse_time
from states.errors import InvalidData
from states.machine import KINDS, describe
from states.opening import Report
from states.spec import PHASES
from workflows.inputs import ActInput

CaseId = Annotated[str, PathParameter(max_length=64, description="the case's id")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", description="retry safely: the same key and body get the first response"),
]


def _actor(request: Request) -> Actor:
    return Actor(name=request.user.name, role=request.user.role)


# A time in a query is RFC 3339 with an offset, as documented: converted as a datetime, "0" would be 1970.
Time = Annotated[str | None, QueryParameter(format="date-time", max_length=64)]


def query_time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as error:
        raise InvalidData(name, str(error)) from None


def case_filter(
    kind: FromQuery[KindName | None] = None,
    # Litestar reserves the name `state`; the query parameter keeps it, checked by hand.
    phase: Annotated[str | None, QueryParameter(name="state", description="one of the phases")] = None,
    priority: FromQuery[PriorityName | None] = None,
    owner: Annotated[str | None, QueryParameter(max_length=200)] = None,
    customer_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
    linked_to: Annotated[str | None, QueryParameter(max_length=64)] = None,
    created_after: Time = None,
    created_before: Time = None,
    breached: FromQuery[bool | None] = None,
    sla_due_before: Time = None,
    q: Annotated[
        str | None,
        QueryParameter(
            max_length=MAX_QUERY,
            description="free text found as a substring (Chinese too) of the title, description, customer name or id, order reference or case id; blank: no filter",
        ),
    ] = None,
    unassigned: Annotated[bool | None, QueryParameter(description="true: cases without an owner; false: cases with one")] = None,
    team: Annotated[str | None, QueryParameter(max_length=100, description="the cases in this team's queue")] = None,
    site: Annotated[str | None, QueryParameter(max_length=100, description="the cases of the teams at this site")] = None,
) -> CaseFilter:
    """The list's filters from the query: `GET /cases` and its export take the same ones."""
    if phase is not None and phase not in PHASES:
        raise InvalidData("state", f"must be one of: {', '.join(PHASES)}")
    return CaseFilter(
        kind=kind,
        state=phase,
        priority=priority,
        owner=owner,
        customer_id=customer_id,
        linked_to=linked_to,
        created_after=query_time("created_after", created_after),
        created_before=query_time("created_before", created_before),
        breached=breached,
        sla_due_before=query_time("sla_due_before", sla_due_before),
        q=q,
        unassigned=unassigned,
        team=team,
        site=site,
    )


ListOrder = FromQuery[Literal["created", "sla_due"]]


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]
    dependencies = {"where": Provide(case_filter, sync_to_thread=False)}

    @post("/", guards=[may_change], status_code=201, summary="Report a new case", responses=problems(400, 403, 409, 413, 422))
    async def open_case(
        self,
        request: Request,
        data: JSONBody[CaseIn],
        cases: NamedDependency[Cases],
        keys: NamedDependency[IdempotencyKeys],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Case]:
        report = Report(
            kind=data.kind,
            title=data.title,
            description=data.description,
            priority=data.priority,
            customer=None if data.customer is None else msgspec.structs.asdict(data.customer),
            channel=data.channel,
            data=data.data,
        )

        async def work(claim: Claim | None) -> Response:
            request_id = claim.update_id if claim else _new_request_id()
            case = await cases.open(report, _actor(request), data.source_case_id, request_id, claim.case_id if claim else None)
            return _answer(cases.view(case), request, request_id, status_code=201)

        return await once(request, idempotency_key, data, keys, new_case_id(), work)

    @get("/counts", summary="Count the cases a list would show, by phase, owner, kind, priority or team", responses=problems(400, 422))
    async def count_cases(
        self, where: NamedDependency[CaseFilter], cases: NamedDependency[Cases], viewer: NamedDependency[Viewer], group_by: FromQuery[CountGroup]
    ) -> CaseCounts:
        counts = await cases.count(viewer.narrowed(where), group_by)
        return CaseCounts(group_by=counts.group_by, total=counts.total, items=[Count(key=key, count=count) for key, count in counts.items])

    @get("/{case_id:str}", summary="Read one case; its ETag is its version", responses=problems(400, 404, 422))
    async def get_case(self, request: Request, case_id: CaseId, cases: NamedDependency[Cases], viewer: NamedDependency[Viewer]) -> Response[Case]:
        case = viewer.seen(await cases.get(case_id))
        return Response(case_for(case, request.user.role), headers={"ETag": etag(case["version"])})

    @get("/", summary="List cases, newest first", responses=problems(400, 422))
    async def list_cases(
        self,
        request: Request,
        cases: NamedDependency[Cases],
        where: NamedDependency[CaseFilter],
        viewer: NamedDependency[Viewer],
        sort: ListOrder = "created",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> CaseList:
        page = await cases.find(viewer.narrowed(where), limit, cursor, sort)
        role = request.user.role
        return CaseList(items=[case_for(viewer.shown(item), role) for item in page.items], next_cursor=page.next_cursor)

    @post(
        "/{case_id:str}/transitions",
        guards=[may_change],
        status_code=200,
        summary="Take an action on a case",
        responses=problems(400, 403, 404, 409, 412, 413, 422),
    )
    async def transition(
        self,
        request: Request,
        case_id: CaseId,
        data: JSONBody[TransitionIn],
        cases: NamedDependency[Cases],
        keys: NamedDependency[IdempotencyKeys],
        viewer: NamedDependency[Viewer],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match", max_length=100)] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Case]:
        expected = data.expected_version if if_match is None else version_from_etag(if_match)
        if viewer.narrows:
            viewer.seen(await cases.get(case_id))  # a case they may not see is not there for them

        async def work(claim: Claim | None) -> Response:
            request_id = claim.update_id if claim else _new_request_id()
            act = ActInput(data.action, _actor(request), data.note, data.data, expected, request_id)
            try:
                case = await cases.act(case_id, act, viewer.membership)
            except CaseRefused as refused:
                if if_match is not None and refused.kind == "StaleVersion":
                    raise PreconditionFailed(refused.details.get("current_version")) from None
                raise
            return _answer(viewer.shown(cases.view(case)), request, request_id)

        return await once(request, idempotency_key, data, keys, case_id, work)

    @get("/{case_id:str}/history", summary="Every event of a case, oldest first", responses=problems(400, 404, 422))
    async def history(self, case_id: CaseId, cases: NamedDependency[Cases], viewer: NamedDependency[Viewer]) -> History:
        events = await cases.history(case_id)
        if not viewer.sees_all:
            case = await cases.get(case_id)
            viewer.seen(case)
            events = viewer.shown_events(case, events)
        return History(items=msgspec.convert(events, list[Event]))


AcceptLanguage = Annotated[str | None, HeaderParameter(name="Accept-Language", max_length=500, description="labels in zh-CN (the default) or en")]
Lang = Annotated[str | None, QueryParameter(max_length=35, description="labels in this language (zh-CN, en); overrides Accept-Language")]


class MachineController(Controller):
    path = "/machines"
    tags = ["machines"]

    @get("/", summary="Every kind's state machine, labelled", responses=problems(400, 422))
    async def list_machines(self, accept_language: AcceptLanguage = None, lang: Lang = None) -> Response[dict[str, Any]]:
        language = negotiate(accept_language, lang)
        items = [labelled_machine(describe(kind), language) for kind in KINDS]
        return Response({"items": items}, headers={"Content-Language": language})

    @get("/{kind:str}", summary="One kind's state machine, labelled, with a Mermaid diagram", responses=problems(400, 404, 422))
    async def get_machine(
        self, kind: Annotated[str, PathParameter(max_length=64)], accept_language: AcceptLanguage = None, lang: Lang = None
    ) -> Response[dict[str, Any]]:
        if kind not in KINDS:
            raise NotFoundException(f"no kind {kind!r}; kinds: {', '.join(KINDS)}")
        language = negotiate(accept_language, lang)
        return Response(labelled_machine(describe(kind), language), headers={"Content-Language": language})


def _new_request_id() -> str:
    return request_id_var.get() or uuid.uuid4().hex


def _answer(case: dict[str, Any], request: Request, request_id: str, status_code: int = 200) -> Response[Case]:
    """The case after a change, as the caller sees it; the request id names the events it produced."""
    headers = {"X-Request-ID": request_id, "ETag": etag(case["version"])}
    return Response(case_for(case, request.user.role), status_code=status_code, headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'


def version_from_etag(header: str) -> int:
    text = header.strip().removeprefix("W/")
    if len(text) > 2 and text[0] == text[-1] == '"' and text[1:-1].isdigit():
        return int(text[1:-1])
    raise InvalidData("If-Match", 'must be the ETag of the case, e.g. "3"')
