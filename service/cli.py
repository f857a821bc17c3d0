"""The `casework` command: serve (everything on one machine), worker, api."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import prometheus_client
import uvicorn

from service import audit_cli, department_cli, recovery, schema, teams_cli, tracing, users_cli
from service.assessments import Assessments
from service.cases import Cases, People, WorkflowConfig
from service.directory import Directory
from service.dispatch import Dispatcher
from service.holidays import missing_years
from service.meetings import Meetings
from service.notifications import Notifications
from service.observability import configure_logging
from service.process_tree import Child, ChildDied, ProcessTree, announce_ready
from service.projection_failures import ProjectionAlarm
from service.quality import QualityChecks, quality_config
from service.quality_store import QualityStore
from service.read_model import ReadModel, engine_for
from service.reconcile import Reconciler
from service.reviews import Reviews
from service.schema import SchemaOutOfDate
from service.settings import DEMO_USERS, Settings, SettingsError, is_loopback
from service.teams import Department
from service.temporal import EmbeddedTemporal, connect, runtime_with_metrics
from service.tracing import TracingUnavailable
from states.sla_policy import department_calendar
from workflows.assessments import ensure_assessment_schedules
from workflows.meetings import ensure_meeting_schedule
from workflows.notifications import Webhook
from workflows.quality_sampling import ensure_quality_schedule
from workflows.reviews import ensure_schedules
from workflows.sweeps import ensure_sweep_schedule
from workflows.worker import build_worker

log = logging.getLogger("casework")

DESCRIPTION = """\
Casework: case tracking for customer-service teams on durable Temporal workflows.

Settings are environment variables (CASEWORK_HTTP_HOST, CASEWORK_HTTP_PORT, CASEWORK_DATA_DIR,
CASEWORK_DATABASE_URL, CASEWORK_TEMPORAL_ADDRESS, CASEWORK_TEMPORAL_PORT, CASEWORK_TEMPORAL_UI_PORT,
CASEWORK_USERS, CASEWORK_SHUTDOWN_SECONDS, CASEWORK_REDIS_URL, ...); see the README and docs/directory.md.
People who sign in to the console are managed with `casework users` and `casework tokens`; the
department's teams and routing with `casework teams` and `casework routing`."""


class Shutdown:
    """Bounds how long this process takes to stop once asked (CASEWORK_SHUTDOWN_SECONDS).

    The first SIGTERM or Ctrl+C starts the clock and tells each part to wind down within its share;
    whatever still runs when the bound is up (a stuck poll, a child that will not die) is cut off."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._begun = False
        self._on_begin: list[Callable[[], object]] = []
        self._last_resort: list[Callable[[], None]] = []

    def on_begin(self, callback: Callable[[], object]) -> None:
        self._on_begin.append(callback)

    def last_resort(self, callback: Callable[[], None]) -> None:
        self._last_resort.append(callback)

    def begin(self) -> None:
        if self._begun:
            return
        self._begun = True
        log.info("stopping within %ss", self.seconds)
        timer = threading.Timer(self.seconds, self._cut_off)
        timer.daemon = True
        timer.start()
        for callback in self._on_begin:
            callback()

    def _cut_off(self) -> None:
        log.error("still running %ss after being asked to stop: exiting now", self.seconds)
        for callback in self._last_resort:
            callback()
        logging.shutdown()
        os._exit(1)


@asynccontextmanager
async def running_worker(settings: Settings, alarm: ProjectionAlarm | None = None, graceful_seconds: float = 10) -> AsyncIterator[None]:
    """The worker's wiring: read model, Temporal client, case workflows and the projection activity."""
    read_model = ReadModel(engine_for(settings), alarm)
    try:
        await read_model.require_current_schema()
        runtime = None
        if settings.sdk_metrics_port:
            runtime = runtime_with_metrics(settings.http_host, settings.sdk_metrics_port)
        if settings.metrics_port:
            prometheus_client.start_http_server(settings.metrics_port, addr=settings.http_host)
        client = await connect(settings.temporal_connection, runtime=runtime, interceptors=tracing.interceptors(settings.otlp_endpoint))
        webhook = Webhook(settings.webhook_url, settings.webhook_secret)
        await ensure_schedules(client, settings.task_queue, settings.timezone)
        await ensure_assessment_schedules(client, settings.task_queue, settings.timezone)
        await ensure_quality_schedule(client, settings.task_queue, settings.timezone)
        await ensure_meeting_schedule(client, settings.task_queue, settings.timezone)
        await ensure_sweep_schedule(client, settings.task_queue, settings.timezone)
        graceful = timedelta(seconds=graceful_seconds)
        reviews = Reviews(read_model, ZoneInfo(settings.timezone), settings.targets)
        for year in missing_years(settings.holidays, datetime.now(ZoneInfo(settings.timezone)).date()):
            log.warning("the holiday calendar lists no public holiday in %d: list them in CASEWORK_HOLIDAYS (docs/teams.md)", year)
        router = Dispatcher(Department(read_model, settings.timezone, settings.holidays), settings.timezone, settings.holidays)
        quality = QualityChecks(client, read_model, quality_config(settings), settings.users)
        assessments = Assessments(read_model, ZoneInfo(settings.timezone), settings.targets_policy, settings.users, quality.rubric.max_total)
        checks = QualityStore(read_model)
        from api.labels import label  # messages are worded from the console's catalogs; only the wiring joins them

        office = Notifications(read_model, settings.notification_policy, settings.console_url, label, settings.users)
        config = WorkflowConfig(
            settings.task_queue,
            settings.reopen_window_seconds,
            settings.events_per_run,
            settings.sla_policy,
            meeting_calendar=department_calendar(settings.timezone, settings.holidays),
        )
        people = People(
            Department(read_model, settings.timezone, settings.holidays), frozenset(user.name for user in settings.users), settings.ownership
        )
        meetings = Meetings(
            Cases(client, read_model, config, people, router), read_model, reviews, settings.meeting_plan, settings.meetings_ahead, settings.users
        )
        async with build_worker(
            client,
            read_model,
            read_model,
            webhook,
            reviews,
            settings.task_queue,
            graceful,
            router,
            assessments=assessments,
            checks=checks,
            sampler=quality,
            office=office,
            meetings=meetings,
            reconciler=Reconciler(client, read_model),
        ):
            yield
    finally:
        await read_model.close()


class _Server(uvicorn.Server):
    """uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again to end the
    process; here the caller still has to stop the worker and Temporal, so it returns instead."""

    def __init__(self, config: uvicorn.Config, shutdown: Shutdown):
        super().__init__(config)
        self._shutdown = shutdown

    def handle_exit(self, sig, frame) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        self._shutdown.begin()


def _api_server(settings: Settings, shutdown: Shutdown, alarm: ProjectionAlarm | None = None) -> uvicorn.Server:
    from api.app import create_app, stop_live_streams, stop_waiting_on_temporal  # the API sits above the service layer; only this command joins them

    app = create_app(settings, alarm)
    # Of the bound: a third for requests waiting on Temporal to be answered (then 503), a half for every
    # response to be sent (live streams end at once); the rest is the worker's and the embedded Temporal's.
    config = uvicorn.Config(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", timeout_graceful_shutdown=max(1, round(shutdown.seconds / 2))
    )
    loop = asyncio.get_running_loop()
    shutdown.on_begin(lambda: loop.call_soon_threadsafe(loop.call_later, shutdown.seconds / 3, stop_waiting_on_temporal, app))
    shutdown.on_begin(lambda: loop.call_soon_threadsafe(stop_live_streams, app))
    return _Server(config, shutdown)


def _stopping(shutdown: Shutdown, stop: asyncio.Event) -> None:
    shutdown.begin()
    stop.set()


async def _until_stopped(shutdown: Shutdown) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stopping, shutdown, stop)
    await stop.wait()


async def serve(settings: Settings, one_process: bool = False) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await _upgrade_schema(settings)  # the single-machine default keeps itself up to date
    demo_passwords = await _check_directory(settings, add_demo_users=settings.demo_users)
    shutdown = Shutdown(settings.shutdown_seconds)
    temporal = None
    if settings.embedded_temporal:
        temporal = EmbeddedTemporal(
            settings.data_dir, settings.temporal_port, settings.temporal_ui_port, settings.temporal_namespace, supervised=True
        )
        await temporal.start()
        shutdown.last_resort(temporal.kill)
    # Only the embedded read model (SQLite, synchronous=NORMAL) can lose commits to a power cut.
    marker = recovery.RunMarker(settings.data_dir) if settings.read_model_url.startswith("sqlite") else None
    try:
        if one_process:
            await _serve_in_one_process(settings, shutdown, marker, lambda: _print_banner(settings, temporal, demo_passwords))
        else:
            await _serve_as_process_tree(settings, shutdown, temporal, marker, lambda: _print_banner(settings, temporal, demo_passwords))
    finally:
        if temporal is not None:
            temporal.stop(timeout=settings.shutdown_seconds / 5)


async def _serve_in_one_process(settings: Settings, shutdown: Shutdown, marker: recovery.RunMarker | None, banner: Callable[[], None]) -> None:
    alarm = ProjectionAlarm()  # one for the worker's activity and the API's /health
    async with running_worker(settings, alarm, graceful_seconds=settings.shutdown_seconds / 5):
        if marker is not None:
            await _repair_after_unclean_stop(settings, marker)
        await _serve_http(_api_server(settings, shutdown, alarm), banner)
    if marker is not None:
        await _stop_cleanly(settings, marker)


async def _serve_as_process_tree(
    settings: Settings, shutdown: Shutdown, temporal: EmbeddedTemporal | None, marker: recovery.RunMarker | None, banner: Callable[[], None]
) -> None:
    """The worker and the API, each a `casework` child process, started together (after an unclean
    stop: the worker, the repair, then the API); until a signal, or until one of them ends, which
    ends the rest and this command with an error."""
    env = dict(os.environ, CASEWORK_SHUTDOWN_SECONDS=str(_child_shutdown_seconds(settings.shutdown_seconds)))
    if temporal is not None:
        env["CASEWORK_TEMPORAL_ADDRESS"] = temporal.address
    tree = ProcessTree(env)
    loop = asyncio.get_running_loop()
    shutdown.on_begin(lambda: loop.call_soon_threadsafe(tree.terminate))
    shutdown.last_resort(tree.kill)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stopping, shutdown, stop)
    stopping = asyncio.ensure_future(stop.wait())
    died: Child | None = None
    try:
        if marker is not None and marker.unclean_since() is not None:
            # The repair asks the worker (queries), and ends before the API answers anything.
            started = (
                await _unless_stopped(stopping, _start_child(tree, "worker", "worker"))
                and await _unless_stopped(stopping, _repair_after_unclean_stop(settings, marker))
                and await _unless_stopped(stopping, _start_child(tree, "API", "api"))
            )
        else:
            if marker is not None:
                marker.write(datetime.now(UTC))
            started = await _unless_stopped(stopping, _start_together(tree, ("worker", "worker"), ("API", "api")))
        if started:
            banner()
            ending = asyncio.ensure_future(tree.until_one_ends())
            await asyncio.wait({ending, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if ending.done():
                died = ending.result()
                log.error("the %s (pid %d) exited with status %s: stopping Casework", died.name, died.pid, died.process.returncode)
            else:
                ending.cancel()
    finally:
        stopping.cancel()
        shutdown.begin()
        statuses = await tree.wait()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    if died is not None:
        raise ChildDied(f"the {died.name} exited unexpectedly (status {died.process.returncode}); everything is stopped: see the log above")
    if marker is not None and not any(statuses.values()):
        await _stop_cleanly(settings, marker)
    # A child stopped by the signal before it could handle it (still starting) stopped as asked.
    failed = {name: status for name, status in statuses.items() if status not in (0, -signal.SIGTERM)}
    if failed:
        raise ChildDied(f"did not stop cleanly: {', '.join(f'the {name} exited with status {status}' for name, status in failed.items())}")


async def _start_child(tree: ProcessTree, name: str, command: str) -> None:
    await (await tree.start(name, command)).until_ready()


async def _start_together(tree: ProcessTree, *children: tuple[str, str]) -> None:
    try:
        async with asyncio.TaskGroup() as group:
            for name, command in children:
                group.create_task(_start_child(tree, name, command))
    except* ChildDied as died:
        raise died.exceptions[0] from None


async def _unless_stopped(stopping: asyncio.Future, work: Coroutine[object, object, None]) -> bool:
    """Whether `work` finished (raising what it raised) before a stop was asked for; cancelled if not."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


def _child_shutdown_seconds(seconds: int) -> int:
    """A child's share of the shutdown bound: what remains is for stopping the embedded Temporal."""
    return max(1, int(seconds * 0.6))


async def _serve_http(server: uvicorn.Server, on_started: Callable[[], None]) -> None:
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.05)
    if server.started:
        on_started()
    await serving


async def _repair_after_unclean_stop(settings: Settings, marker: recovery.RunMarker) -> None:
    """Before serving: reconcile what the last session may have lost, then mark this one as running."""
    started = datetime.now(UTC)
    since = marker.unclean_since()
    if since is not None:
        read_model = ReadModel(engine_for(settings))
        try:
            client = await connect(settings.temporal_connection)
            if not (await recovery.repair(Reconciler(client, read_model), since)).complete:
                started = since  # what is left is repaired at the next unclean start, or by `casework reconcile`
        finally:
            await read_model.close()
    marker.write(started)


async def _stop_cleanly(settings: Settings, marker: recovery.RunMarker) -> None:
    read_model = ReadModel(engine_for(settings))
    try:
        if await recovery.make_durable(read_model):
            marker.remove()
    finally:
        await read_model.close()


async def worker(settings: Settings) -> None:
    shutdown = Shutdown(settings.shutdown_seconds)
    # Running activities get most of the bound to finish; the rest is for closing connections.
    async with running_worker(settings, graceful_seconds=settings.shutdown_seconds * 0.6):
        log.info("worker polling task queue %s at %s", settings.task_queue, settings.temporal_target)
        announce_ready()
        await _until_stopped(shutdown)


async def api(settings: Settings) -> None:
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.require_current_schema()
    finally:
        await read_model.close()
    await _check_directory(settings, add_demo_users=False)
    await _serve_http(_api_server(settings, Shutdown(settings.shutdown_seconds)), announce_ready)


async def _check_directory(settings: Settings, add_demo_users: bool) -> dict[str, str]:
    """Add the demo users to an empty directory if asked; refuse to listen beyond loopback while
    anyone still has a public demo password. The demo passwords still in use, by name."""
    read_model = ReadModel(engine_for(settings))
    try:
        directory = Directory(read_model)
        if add_demo_users and await directory.is_empty():
            await directory.add_demo_users()
        in_use = await directory.demo_passwords_in_use()
    finally:
        await read_model.close()
    if in_use and not is_loopback(settings.http_host):
        raise RuntimeError(
            f"the public demo passwords of {', '.join(in_use)} still work and CASEWORK_HTTP_HOST is not a loopback address: "
            "change them (`casework users set-password NAME --password-stdin`) or disable them first"
        )
    return in_use


async def reconcile(settings: Settings, case_ids: list[str] | None) -> int:
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.require_current_schema()
        reconciler = Reconciler(await connect(settings.temporal_connection), read_model)
        changed = troubled = 0
        async for result in reconciler.reconcile_many(case_ids or await reconciler.case_ids()):
            changed += result.changed
            troubled += bool(result.problems)
            if result.changed or result.problems:
                print(result.describe())
        print(f"reconciled {len(case_ids) if case_ids else 'all'} cases: {changed} repaired, {troubled} with problems left alone")
        return 0
    finally:
        await read_model.close()


async def _upgrade_schema(settings: Settings) -> None:
    read_model = ReadModel(engine_for(settings))
    try:
        await read_model.upgrade(settings.timezone)
    finally:
        await read_model.close()


async def db(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.db_command == "upgrade":
        await _upgrade_schema(settings)
    engine = engine_for(settings)
    try:
        print(f"read model schema: {await schema.current(engine) or 'none'} (this version needs {schema.head()})")
    finally:
        await engine.dispose()
    return 0


def _print_banner(settings: Settings, temporal: EmbeddedTemporal | None, demo_passwords: dict[str, str]) -> None:
    base = f"http://{settings.http_host}:{settings.http_port}"
    lines = [
        "Casework is running.",
        f"  API:              {base}",
        f"  API docs:         {base}/schema",
        f"  console:          {base}/ui/login",
        f"  Temporal:         {settings.temporal_target}",
    ]
    if temporal is not None:
        lines.append(f"  Temporal web UI:  {temporal.ui_url}")
    lines.append(f"  read model:       {settings.read_model_url.split('@')[-1]}")
    if settings.demo_users:
        lines.append("  demo users (set CASEWORK_USERS to replace them):")
        for name, role, token in (entry.split(":") for entry in DEMO_USERS.split(",")):
            password = f"   password {demo_passwords[name]}" if name in demo_passwords else ""
            lines.append(f"    {name:<5} {role:<11} token {token:<24}{password}".rstrip())
    else:
        lines.append("  users: " + ", ".join(f"{user.name} ({user.role})" for user in settings.users))
        lines += [f"  demo user {name}, password {password}" for name, password in demo_passwords.items()]
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), flush=True)


COMMANDS = {
    "serve": (serve, "run everything on this machine: the embedded Temporal dev server (unless "
              "CASEWORK_TEMPORAL_ADDRESS is set), a worker and the HTTP API, each in a process of its own"),
    "worker": (worker, "run a worker against CASEWORK_TEMPORAL_ADDRESS (or the local default)"),
    "api": (api, "run the HTTP API against CASEWORK_TEMPORAL_ADDRESS (or the local default)"),
}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="casework", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        command = commands.add_parser(name, help=help_text, description=help_text)
        if name == "serve":
            command.add_argument(
                "--one-process",
                action="store_true",
                help="run the worker and the API in this one process: less memory, but one core for both "
                "(by default each runs in a child process of its own, so that two cores work)",
            )
    audit_cli.add_commands(commands)
    teams_cli.add_commands(commands, users_cli.add_commands(commands))
    department_cli.add_commands(commands)
    reconcile_command = commands.add_parser("reconcile", help="make the read model agree with the workflows, and say what changed")
    reconcile_command.add_argument("--case", action="append", metavar="ID", help="only this case (repeatable); default: every case")
    database = commands.add_parser("db", help="the read model's schema (Alembic migrations)")
    database_actions = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    database_actions.add_parser("upgrade", help="migrate the read model at CASEWORK_DATABASE_URL to this version")
    database_actions.add_parser("current", help="show the schema version of the read model and the one needed")
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"casework: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format)
    try:
        if arguments.command == "audit":
            return asyncio.run(audit_cli.run(settings, arguments))
        if arguments.command in ("teams", "routing") or getattr(arguments, "users_command", None) in teams_cli.USER_ACTIONS:
            return asyncio.run(teams_cli.run(settings, arguments))
        if arguments.command in ("users", "tokens"):
            return asyncio.run(users_cli.run(settings, arguments))
        if arguments.command == "department":
            return asyncio.run(department_cli.run(settings, arguments))
        if arguments.command == "db":
            return asyncio.run(db(settings, arguments))
        if arguments.command == "reconcile":
            return asyncio.run(reconcile(settings, arguments.case))
        if arguments.command == "serve":
            asyncio.run(serve(settings, one_process=arguments.one_process))
            return 0
        run, _ = COMMANDS[arguments.command]
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass
    except (RuntimeError, OSError, SchemaOutOfDate, TracingUnavailable) as error:
        print(f"casework: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
