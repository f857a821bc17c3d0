"""The app factory: the one place the HTTP side is wired to Temporal and the read model."""

from __future__ import annotations

import asyncio
import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from zoneinfo import ZoneInfo

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from api.assessments import AssessmentController
from api.audit import CaseAuditController, NotificationController
from api.auth import SignInNeeded, authentication
from api.codec import CodecController, CodecCors
from api.console.render import asset
from api.console.routes import console_router, on_sign_in_needed, static_router
from api.controllers import CaseController, MachineController
from api.department import DirectoryLogController, RoutingController, TeamController
from api.errors import HANDLERS
from api.exports import ExportController
from api.handover import handover
from api.kpis import KpiController, ReviewController, TargetController
from api.labels import label
from api.live import live_events
from api.meetings import MeetingController
from api.notifications import DeliveryLogController, InboxController, PreferencesController
from api.observability import MetricsController, prometheus, request_context
from api.quality import QualityController
from api.schemas import Health
from api.security import SharedRateLimit, cors, security_headers
from api.storable import refuse_unstorable_text
from api.users import UserController
from service import tracing
from service.assessments import Assessments
from service.audit import Audit
from service.cases import Cases, People, WorkflowConfig
from service.directory import Directory
from service.dispatch import Dispatcher
from service.idempotency import IdempotencyKeys, keep_forgetting
from service.kpis import Kpis
from service.live import LiveFeed
from service.meetings import Meetings
from service.notifications import Notifications
from service.projection_failures import ProjectionAlarm
from service.quality import QualityChecks, quality_config
from service.rate_counter import RateCounter
from service.read_model import ReadModel, engine_for
from service.reviews import Reviews
from service.settings import Settings
from service.shared_store import keep_tidy, open_shared_store
from service.sign_in import SessionPolicy, SignIn
from service.teams import Department
from service.temporal import connect
from service.users import Users
from service.visibility import Viewer, Visibility
from states.case import Actor
from states.sla_policy import department_calendar


@get(
    "/health",
    exclude_from_auth=True,
    security=[{}],  # no token needed
    tags=["health"],
    summary="Whether the API, Temporal and the read model answer, and whether the read model refused changes lately",
    responses={503: ResponseSpec(data_container=Health, description="Temporal or the read model did not answer", generate_examples=False)},
)
async def health(state: State) -> Response[Health]:
    temporal = await _probe(state.cases.ping_temporal())
    read_model = await _probe(state.cases.ping_read_model())
    if temporal != "ok" or read_model != "ok":
        return Response(Health("unavailable", temporal, read_model), status_code=503)
    # Changes the read model refused for good: the service works, but an operator must look (200, not 503).
    refused = await state.read_model.refusal_status()
    if refused:
        return Response(Health("degraded", temporal, refused, alerts=[refused]))
    return Response(Health("ok", temporal, read_model))


async def _probe(check) -> str:
    try:
        await check
        return "ok"
    except Exception as error:  # health reports any failure rather than failing itself
        return f"unavailable: {type(error).__name__}"


def _cases(state: State) -> Cases:
    return state.cases


def _audit(state: State) -> Audit:
    return state.audit


def _read_model(state: State) -> ReadModel:
    return state.read_model


def _keys(state: State) -> IdempotencyKeys:
    return state.idempotency_keys


def _kpis(state: State) -> Kpis:
    return state.kpis


def _reviews(state: State) -> Reviews:
    return state.reviews


def _meetings(state: State) -> Meetings:
    return state.meetings


def _assessments(state: State) -> Assessments:
    return state.assessments


def _live(state: State) -> LiveFeed:
    return state.live


async def _viewer(request: Request, state: State) -> Viewer:
    return await state.visibility.viewer(Actor(request.user.name, request.user.role))


def _department(state: State) -> Department:
    return state.department


def _users(state: State) -> Users:
    return state.users


def _notifications(state: State) -> Notifications:
    return state.notifications


def stop_waiting_on_temporal(app: Litestar) -> None:
    """The server is stopping: requests still waiting on Temporal are answered 503 with Retry-After."""
    cases = getattr(app.state, "cases", None)
    if cases is not None:
        cases.stop_waiting()


def stop_live_streams(app: Litestar) -> None:
    """The server is stopping: end the live streams, which would otherwise hold it until its bound
    (their clients reconnect, to another replica)."""
    live = getattr(app.state, "live", None)
    if live is not None:
        live.stop_streams()


def create_app(settings: Settings | None = None, alarm: ProjectionAlarm | None = None) -> Litestar:
    """`alarm`: where refused projections are reported, shared with an in-process worker's read model."""
    settings = settings or Settings.from_env()
    department_zone = ZoneInfo(settings.timezone)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        read_model = ReadModel(engine_for(settings), alarm)
        await read_model.require_current_schema()
        client = await connect(settings.temporal_connection, interceptors=tracing.interceptors(settings.otlp_endpoint))
        config = WorkflowConfig(
            settings.task_queue,
            settings.reopen_window_seconds,
            settings.events_per_run,
            settings.sla_policy,
            settings.escalation_window_seconds,
            department_calendar(settings.timezone, settings.holidays),
        )
        app.state.department = Department(read_model, settings.timezone, settings.holidays)
        app.state.notifications = Notifications(read_model, settings.notification_policy, settings.console_url, label, settings.users)
        app.state.visibility = Visibility(app.state.department, settings.visibility)
        people = People(app.state.department, frozenset(user.name for user in settings.users), settings.ownership)
        router = Dispatcher(app.state.department, settings.timezone, settings.holidays)
        app.state.cases = Cases(client, read_model, config, people, router)
        app.state.audit = Audit(client, read_model)
        app.state.codec = client.data_converter.payload_codec  # None unless CASEWORK_PAYLOAD_KEYS is set
        app.state.quality = QualityChecks(client, read_model, quality_config(settings), settings.users)
        app.state.read_model = read_model
        app.state.idempotency_keys = IdempotencyKeys(read_model)
        app.state.kpis = Kpis(read_model, department_zone, settings.targets, rollups=True)
        app.state.reviews = Reviews(read_model, department_zone, settings.targets)
        app.state.meetings = Meetings(app.state.cases, read_model, app.state.reviews, settings.meeting_plan, settings.meetings_ahead, settings.users)
        app.state.assessments = Assessments(read_model, department_zone, settings.targets_policy, settings.users, app.state.quality.rubric.max_total)
        app.state.assessments.announce = functools.partial(app.state.notifications.announce, client, task_queue=settings.task_queue)
        app.state.directory = Directory(read_model)
        app.state.users = Users(app.state.directory, app.state.department)
        app.state.shared_store = open_shared_store(settings.redis_url, read_model)
        app.state.rate_counter = RateCounter(app.state.shared_store, settings.rate_limit_per_minute)
        app.state.sign_in = SignIn(
            app.state.directory,
            app.state.shared_store,
            SessionPolicy(timedelta(seconds=settings.session_idle_seconds), timedelta(seconds=settings.session_lifetime_seconds)),
        )
        app.state.live = LiveFeed(read_model)
        app.state.live.start()
        chores = [asyncio.create_task(keep_forgetting(app.state.idempotency_keys)), asyncio.create_task(keep_tidy(app.state.shared_store))]
        # What start-up made lives as long as the process: left out of the collector's full passes, which
        # otherwise walk it all (about 0.1 s, the p99 of GET /kpis at 100k cases, docs/benchmarks.md).
        gc.freeze()
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
                with suppress(asyncio.CancelledError):
                    await chore
            await app.state.live.close()
            await app.state.shared_store.close()
            await read_model.close()
            gc.unfreeze()  # a process that goes on (the tests) may collect them again

    app = Litestar(
        route_handlers=[
            CaseController,
            CaseAuditController,
            CodecController,
            NotificationController,
            ExportController,
            MachineController,
            KpiController,
            ReviewController,
            MeetingController,
            AssessmentController,
            TargetController,
            QualityController,
            TeamController,
            UserController,
            InboxController,
            PreferencesController,
            DeliveryLogController,
            RoutingController,
            DirectoryLogController,
            MetricsController,
            live_events,
            handover,
            health,
            console_router(),
            static_router(),
        ],
        lifespan=[lifespan],
        before_request=refuse_unstorable_text,
        dependencies={
            "cases": Provide(_cases, sync_to_thread=False),
            "audit": Provide(_audit, sync_to_thread=False),
            "read_model": Provide(_read_model, sync_to_thread=False),
            "keys": Provide(_keys, sync_to_thread=False),
            "kpis": Provide(_kpis, sync_to_thread=False),
            "reviews": Provide(_reviews, sync_to_thread=False),
            "meetings": Provide(_meetings, sync_to_thread=False),
            "assessments": Provide(_assessments, sync_to_thread=False),
            "zone": Provide(lambda: department_zone, sync_to_thread=False),
            "live": Provide(_live, sync_to_thread=False),
            "viewer": Provide(_viewer),
            "department": Provide(_department, sync_to_thread=False),
            "users": Provide(_users, sync_to_thread=False),
            "notifications": Provide(_notifications, sync_to_thread=False),
        },
        middleware=[
            request_context,
            security_headers,
            SharedRateLimit(settings.rate_limit_per_minute, settings.users),
            authentication(settings.users),
            prometheus.middleware,
        ],
        cors_config=cors(settings.cors_origins),
        exception_handlers={**HANDLERS, SignInNeeded: on_sign_in_needed},
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Casework",
            version="1.0.0",
            description="Case tracking for customer-service teams. Send `Authorization: Bearer <token>`.",
            path="/schema",
            # From the app itself, like everything the console loads (intranets have no internet).
            render_plugins=[
                RedocRenderPlugin(
                    js_url=asset("vendor/redoc-2.5.4.standalone.js"), google_fonts=False, path="/", favicon="<link rel='icon' href='data:,'>"
                )
            ],
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
        ),
    )
    # Outermost, ahead of the API's own CORS (CASEWORK_CORS_ORIGINS): /codec/ answers the Temporal UI's origins, with credentials.
    app.asgi_handler = CodecCors(app.asgi_handler, settings.codec_cors_origins)
    return app
