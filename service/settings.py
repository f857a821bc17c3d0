"""Settings from the environment: the only place that reads it."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.holidays import official_holidays
from service.payload_codec import PayloadKey, PayloadKeyError, parse_payload_keys
from states.assessment import parse_assessment_policy
from states.holidays import HolidayCalendar, parse_holiday_calendar
from states.kpi_names import KPI_NAMES
from states.meeting_plan import MeetingPlan, parse_meeting_plan
from states.notification_rules import NotificationPolicy, parse_notification_policy
from states.policy_error import PolicyError
from states.scorecard import parse_rubric
from states.sla_policy import parse_duration, parse_policy, with_department_calendar
from states.targets import DEFAULT_TARGETS_DATA, TARGET_TABLES, Targets, parse_targets
from states.vocabulary import SYSTEM, Role

ROLES = tuple(Role)
VISIBILITIES = ("all", "team")
# For a first look on one's own machine only: refused when the API listens beyond loopback.
DEMO_USERS = "ann:agent:demo-agent-token,sam:supervisor:demo-supervisor-token,ada:auditor:demo-auditor-token"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class User:
    """Who may call the API. Only a hash of the token is kept in memory."""

    name: str
    role: str
    token_hash: str = field(repr=False)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TemporalConnection:
    """Where and how every client and worker reaches Temporal. The certificate files are read at each
    connect, so a restarted process picks up renewed ones."""

    address: str
    namespace: str
    tls: bool = False
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_server_name: str | None = None
    api_key: str | None = field(default=None, repr=False)
    # CASEWORK_PAYLOAD_KEYS: the first encrypts every payload, all decrypt; () keeps payloads plaintext.
    payload_keys: tuple[PayloadKey, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Settings:
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    data_dir: Path = Path(".casework")
    database_url: str | None = None
    # The CA that signed PostgreSQL's certificate; the URL's `ssl=` (or `sslmode=`) says how strictly.
    database_tls_ca: Path | None = None
    temporal_address: str | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "casework"
    # Beyond one host: TLS (server-verified, or mutual with a client certificate) and Temporal Cloud's API keys.
    temporal_tls: bool = False
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: str | None = field(default=None, repr=False)
    # Customer data encrypted in Temporal's history (service/payload_codec.py); the first key encrypts.
    payload_keys: tuple[PayloadKey, ...] = field(default=(), repr=False)
    # The Temporal web UI's origins, allowed to call the codec endpoint (/codec/decode, /codec/encode).
    codec_cors_origins: tuple[str, ...] = ()
    users: tuple[User, ...] = ()
    demo_users: bool = False
    rate_limit_per_minute: int = 1200
    cors_origins: tuple[str, ...] = ()
    reopen_window_seconds: int = 30 * 24 * 3600
    # Storm control (CASEWORK_ESCALATION_WINDOW, ISO 8601): a breach's automatic escalation joins the
    # emergency meeting opened by automatic escalation for the same cause within this window.
    escalation_window_seconds: float = 3600.0
    # A run's history is replayed whole when a worker takes up a case it does not hold (restarted, or
    # the case left its cache): at 100 case events (~700 history events) about 0.3 s of the worker's
    # CPU; at 500, 1.5 s, and a burst of such cases timed workflow tasks out, each retry replaying
    # again (docs/benchmarks.md, "Third round").
    events_per_run: int = 100
    max_body_bytes: int = 1_000_000
    # The service-level policy as plain data (CASEWORK_SLA_POLICY's TOML); None: the built-in default.
    sla_policy: dict[str, Any] | None = None
    log_format: str = "text"
    metrics_port: int | None = None
    sdk_metrics_port: int | None = None
    otlp_endpoint: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    # CASEWORK_NOTIFICATIONS' TOML (channels and rules, states/notification_rules.py); None: default rules, no channels.
    notifications: dict[str, Any] | None = field(default=None, repr=False)
    # Where people reach the console, for the links in messages (CASEWORK_PUBLIC_URL); None: http://host:port.
    public_url: str | None = None
    # How long `casework serve`, `api` and `worker` take at most to stop on SIGTERM or Ctrl+C.
    shutdown_seconds: int = 15
    # Where API replicas share sessions, failed sign-ins and the rate limit; None: the read-model database.
    redis_url: str | None = field(default=None, repr=False)
    session_idle_seconds: int = 90 * 60
    session_lifetime_seconds: int = 10 * 3600  # a 9-hour shift and its breaks
    # The department's time zone: how every time is shown, and where its days, weeks and months begin.
    timezone: str = "Asia/Shanghai"
    # Its public holidays and make-up working days: China's official calendar, amended by CASEWORK_HOLIDAYS.
    holidays: HolidayCalendar = field(default_factory=official_holidays)
    # Mark the console's cookies Secure: the console is reached over HTTPS (directly or behind a proxy).
    secure_cookies: bool = False
    # First-contact ownership: only a case's owner, its team's supervisors and managers move it.
    ownership: bool = True
    # The KPI targets and the assessment's weights (CASEWORK_TARGETS' TOML, states/targets.py); None: the defaults.
    targets_policy: dict[str, Any] | None = None
    # The quality checks' scorecard (CASEWORK_RUBRIC's TOML, states/scorecard.py); None: seed 002's.
    rubric: dict[str, Any] | None = None
    # How many closed cases per agent a week's quality checks take at most, beyond the mandatory ones.
    quality_sample: int = 5
    # How long after a score the agent may appeal it (CASEWORK_APPEAL_DAYS; seconds here, so tests can be quick).
    appeal_window_seconds: float = 7 * 24 * 3600
    # What agents see: every case ("all"), or only their teams' cases and their own ("team").
    visibility: str = "all"
    # When the weekly and monthly meetings (例会) fall, where, and the hosts' rotation (CASEWORK_MEETINGS'
    # TOML, states/meeting_plan.py); empty: weekly on Friday 16:00, monthly on the month's last Friday 14:00.
    meetings: dict[str, Any] = field(default_factory=dict)
    # How many weekly meetings ahead the daily run keeps created (next week's is always there).
    meetings_ahead: int = 2

    @property
    def meeting_plan(self) -> MeetingPlan:
        """The meetings' plan in the department's time zone (checked when the settings were read)."""
        return parse_meeting_plan(self.meetings, self.timezone)

    @property
    def targets(self) -> Targets:
        """The KPI targets in force (checked when the settings were read)."""
        return parse_targets(DEFAULT_TARGETS_DATA if self.targets_policy is None else self.targets_policy, KPI_NAMES)

    @property
    def notification_policy(self) -> NotificationPolicy:
        """The channels and rules in force (checked when the settings were read); the old webhook is one channel."""
        return parse_notification_policy(self.notifications, self.webhook_url, self.webhook_secret)

    @property
    def console_url(self) -> str:
        """The console's base URL for deep links: CASEWORK_PUBLIC_URL, or where the API listens."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def read_model_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'casework.db').resolve()}"

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_connection(self) -> TemporalConnection:
        return TemporalConnection(
            self.temporal_target,
            self.temporal_namespace,
            tls=self.temporal_tls,
            tls_ca=self.temporal_tls_ca,
            tls_cert=self.temporal_tls_cert,
            tls_key=self.temporal_tls_key,
            tls_server_name=self.temporal_tls_server_name,
            api_key=self.temporal_api_key,
            payload_keys=self.payload_keys,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        host = env.get("CASEWORK_HTTP_HOST", cls.http_host)
        users, demo = _users(env)
        if demo and not is_loopback(host):
            raise SettingsError(
                "CASEWORK_USERS (or CASEWORK_USERS_FILE) is required when CASEWORK_HTTP_HOST is not a loopback address "
                "(the demo users' tokens are public)"
            )
        database_url, database_tls_ca = _database(env)
        temporal_address = env.get("CASEWORK_TEMPORAL_ADDRESS") or None
        temporal_security = _temporal_security(env, temporal_address)
        timezone = _timezone(env, cls.timezone)
        holidays = load_holidays(env.get("CASEWORK_HOLIDAYS"))
        return cls(
            http_host=host,
            http_port=_port(env, "CASEWORK_HTTP_PORT", cls.http_port),
            data_dir=Path(env.get("CASEWORK_DATA_DIR", str(cls.data_dir))),
            database_url=database_url,
            database_tls_ca=database_tls_ca,
            temporal_address=temporal_address,
            temporal_port=_port(env, "CASEWORK_TEMPORAL_PORT", cls.temporal_port),
            temporal_ui_port=_port(env, "CASEWORK_TEMPORAL_UI_PORT", cls.temporal_ui_port),
            temporal_namespace=env.get("CASEWORK_TEMPORAL_NAMESPACE", cls.temporal_namespace),
            task_queue=env.get("CASEWORK_TASK_QUEUE", cls.task_queue),
            **temporal_security,
            users=users,
            demo_users=demo,
            rate_limit_per_minute=_positive_int(env, "CASEWORK_RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute),
            cors_origins=_origins(env, "CASEWORK_CORS_ORIGINS"),
            payload_keys=_payload_keys(env),
            codec_cors_origins=_origins(env, "CASEWORK_CODEC_CORS_ORIGINS"),
            reopen_window_seconds=_positive_int(env, "CASEWORK_REOPEN_WINDOW_SECONDS", cls.reopen_window_seconds),
            escalation_window_seconds=_duration(env, "CASEWORK_ESCALATION_WINDOW", cls.escalation_window_seconds),
            events_per_run=_positive_int(env, "CASEWORK_EVENTS_PER_RUN", cls.events_per_run),
            max_body_bytes=_positive_int(env, "CASEWORK_MAX_BODY_BYTES", cls.max_body_bytes),
            sla_policy=load_sla_policy(env.get("CASEWORK_SLA_POLICY"), timezone, holidays),
            log_format=_choice(env, "CASEWORK_LOG_FORMAT", ("text", "json"), cls.log_format),
            metrics_port=_optional_port(env, "CASEWORK_METRICS_PORT"),
            sdk_metrics_port=_optional_port(env, "CASEWORK_SDK_METRICS_PORT"),
            otlp_endpoint=_url(env, "CASEWORK_OTLP_ENDPOINT"),
            webhook_url=_url(env, "CASEWORK_WEBHOOK_URL"),
            webhook_secret=env.get("CASEWORK_WEBHOOK_SECRET") or None,
            notifications=load_notifications(
                env.get("CASEWORK_NOTIFICATIONS"), _url(env, "CASEWORK_WEBHOOK_URL"), env.get("CASEWORK_WEBHOOK_SECRET") or None
            ),
            public_url=_url(env, "CASEWORK_PUBLIC_URL"),
            shutdown_seconds=_positive_int(env, "CASEWORK_SHUTDOWN_SECONDS", cls.shutdown_seconds),
            redis_url=_redis_url(env),
            session_idle_seconds=_positive_int(env, "CASEWORK_SESSION_IDLE_SECONDS", cls.session_idle_seconds),
            session_lifetime_seconds=_positive_int(env, "CASEWORK_SESSION_LIFETIME_SECONDS", cls.session_lifetime_seconds),
            timezone=timezone,
            holidays=holidays,
            secure_cookies=_choice(env, "CASEWORK_SECURE_COOKIES", ("off", "on"), "off") == "on",
            ownership=_choice(env, "CASEWORK_OWNERSHIP", ("on", "off"), "on") == "on",
            visibility=_choice(env, "CASEWORK_VISIBILITY", VISIBILITIES, cls.visibility),
            targets_policy=_checked_assessment(load_targets(env.get("CASEWORK_TARGETS"))),
            rubric=load_rubric(env.get("CASEWORK_RUBRIC")),
            quality_sample=_positive_int(env, "CASEWORK_QUALITY_SAMPLE", cls.quality_sample),
            appeal_window_seconds=_positive_int(env, "CASEWORK_APPEAL_DAYS", 7) * 24 * 3600,
            meetings=load_meetings(env.get("CASEWORK_MEETINGS"), timezone),
            meetings_ahead=_positive_int(env, "CASEWORK_MEETINGS_AHEAD", cls.meetings_ahead),
        )


def _checked_assessment(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    """The targets policy, refused when its `[assessment]` table is malformed (states/assessment.py)."""
    try:
        parse_assessment_policy(policy)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_TARGETS: {error}") from None
    return policy


def load_meetings(path: str | None, timezone: str) -> dict[str, Any]:
    """CASEWORK_MEETINGS: `[weekly] weekday, time, place, rotation` and `[monthly] weekday, time, place`."""
    if not path:
        return {}
    data = _toml("CASEWORK_MEETINGS", path)
    try:
        parse_meeting_plan(data, timezone)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_MEETINGS ({path}): {error}") from None
    return data


def load_rubric(path: str | None) -> dict[str, Any] | None:
    """Read and check the scorecard; its data travels to each check's workflow as plain JSON."""
    if not path:
        return None
    data = _toml("CASEWORK_RUBRIC", path)
    try:
        parse_rubric(data)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_RUBRIC ({path}): {error}") from None
    return data


def load_sla_policy(path: str | None, timezone: str, holidays: HolidayCalendar) -> dict[str, Any] | None:
    """Read and check the policy file; its data travels to each case's workflow as plain JSON.

    A calendar without a time zone takes the department's; one that lists neither holidays nor
    make-up working days takes the department's holiday calendar."""
    if not path:
        return None
    data = with_department_calendar(_toml("CASEWORK_SLA_POLICY", path), timezone, holidays)
    try:
        parse_policy(data)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_SLA_POLICY ({path}): {error}") from None
    return data


# The targets policy's own tables, and the one the assessment's weights are read from.
TARGETS_POLICY_TABLES = (*TARGET_TABLES, "assessment")


def load_notifications(path: str | None, webhook_url: str | None = None, webhook_secret: str | None = None) -> dict[str, Any] | None:
    """Read and check the channels and rules; the worker parses them again where it uses them."""
    if not path:
        return None
    data = _toml("CASEWORK_NOTIFICATIONS", path)
    try:
        parse_notification_policy(data, webhook_url, webhook_secret)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_NOTIFICATIONS ({path}): {error}") from None
    return data


def load_targets(path: str | None) -> dict[str, Any] | None:
    """Read and check the targets policy (its `assessment` table is checked where it is used)."""
    if not path:
        return None
    data = _toml("CASEWORK_TARGETS", path)
    unknown = sorted(set(data) - set(TARGETS_POLICY_TABLES))
    try:
        if unknown:
            raise PolicyError(unknown[0], f"unknown table; tables: {', '.join(TARGETS_POLICY_TABLES)}")
        parse_targets(data, KPI_NAMES)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_TARGETS ({path}): {error}") from None
    return data


def load_holidays(path: str | None) -> HolidayCalendar:
    """China's official calendar, with the file's `holidays` and `workdays` added (or alone, `replace = true`)."""
    if not path:
        return official_holidays()
    data = _toml("CASEWORK_HOLIDAYS", path)
    unknown = sorted(set(data) - {"holidays", "workdays", "replace"})
    replace = data.get("replace", False)
    try:
        if unknown:
            raise PolicyError(unknown[0], "unknown key; keys: holidays, workdays, replace")
        if not isinstance(replace, bool):
            raise PolicyError("replace", "must be true or false")
        amended = parse_holiday_calendar(data.get("holidays", []), data.get("workdays", []), "")
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_HOLIDAYS ({path}): {error}") from None
    return amended if replace else official_holidays().overridden_by(amended)


def _toml(name: str, path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise SettingsError(f"{name}: cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{name} ({path}) is not valid TOML: {error}") from None
    return json.loads(json.dumps(data, default=str))  # TOML dates become ISO strings


def parse_users(text: str, source: str = "CASEWORK_USERS", separator: str = ",") -> tuple[User, ...]:
    """`name:role:token` entries; in a users file a token may be given as `sha256=<hex of its hash>`."""
    users = []
    entries = (part.strip() for part in text.split(separator))
    for number, entry in enumerate(filter(lambda part: part and not part.startswith("#"), entries), start=1):
        parts = entry.split(":")
        if len(parts) != 3 or not all(parts):
            raise SettingsError(f"{source} entry {number} must be name:role:token")
        name, role, token = parts
        if len(name) > 100 or not name.isprintable():
            raise SettingsError(f"{source} entry {number}: a name is at most 100 printable characters")
        if name == SYSTEM:
            raise SettingsError(f"{source} entry {number}: the name '{SYSTEM}' is reserved for automatic actions")
        if role not in ROLES:
            raise SettingsError(f"{source} entry {number} ({name}): role must be one of {', '.join(ROLES)}")
        if token.startswith("sha256="):
            token_hash = token.removeprefix("sha256=")
            if len(token_hash) != 64 or any(char not in "0123456789abcdef" for char in token_hash):
                raise SettingsError(f"{source} entry {number} ({name}): sha256= must be followed by 64 lower-case hex digits")
        elif len(token) < 16:
            raise SettingsError(f"{source} entry {number} ({name}): token must be at least 16 characters")
        else:
            token_hash = hash_token(token)
        users.append(User(name, role, token_hash))
    if not users:
        raise SettingsError(f"{source} names no user")
    if len({user.token_hash for user in users}) != len(users):
        raise SettingsError(f"{source}: two users share a token")
    return tuple(users)


def _users(env: Mapping[str, str]) -> tuple[tuple[User, ...], bool]:
    """The configured users, and whether they are the demo users."""
    path = env.get("CASEWORK_USERS_FILE")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise SettingsError(f"CASEWORK_USERS_FILE: cannot read {path}: {error.strerror}") from None
        return parse_users(text, f"CASEWORK_USERS_FILE ({path})", "\n"), False
    if env.get("CASEWORK_USERS"):
        return parse_users(env["CASEWORK_USERS"]), False
    return parse_users(DEMO_USERS), True


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _database(env: Mapping[str, str]) -> tuple[str | None, Path | None]:
    url = env.get("CASEWORK_DATABASE_URL") or None
    ca = _existing_file(env, "CASEWORK_DATABASE_TLS_CA")
    postgres = url is not None and url.startswith("postgresql")
    if ca is not None and not postgres:
        raise SettingsError("CASEWORK_DATABASE_TLS_CA is for PostgreSQL: set CASEWORK_DATABASE_URL to a postgresql+asyncpg:// URL")
    if url is not None and postgres:
        query = dict(parse_qsl(urlsplit(url).query))
        for name in ("ssl", "sslmode"):
            if name in query and query[name] not in SSL_MODES:
                raise SettingsError(f"CASEWORK_DATABASE_URL: {name} must be one of {', '.join(SSL_MODES)}, got {query[name]!r}")
        if ca is not None and (query.get("ssl") or query.get("sslmode")) in ("disable", "allow", "prefer"):
            raise SettingsError(
                "CASEWORK_DATABASE_TLS_CA is set, but the URL's ssl mode lets the connection go without verified TLS: use verify-full"
            )
    return url, ca


def _temporal_security(env: Mapping[str, str], address: str | None) -> dict[str, Any]:
    """TLS and the API key; any of them turns TLS on (Temporal Cloud wants it with an API key too)."""
    files = {name: _existing_file(env, f"CASEWORK_TEMPORAL_TLS_{name.upper()}") for name in ("ca", "cert", "key")}
    if (files["cert"] is None) != (files["key"] is None):
        raise SettingsError(
            "CASEWORK_TEMPORAL_TLS_CERT and CASEWORK_TEMPORAL_TLS_KEY go together: mutual TLS needs both the client certificate and its private key"
        )
    server_name = env.get("CASEWORK_TEMPORAL_TLS_SERVER_NAME") or None
    api_key = env.get("CASEWORK_TEMPORAL_API_KEY") or None
    switch = _choice(env, "CASEWORK_TEMPORAL_TLS", ("auto", "on", "off"), "auto")
    tls = switch == "on" or any(files.values()) or server_name is not None or api_key is not None
    if switch == "off" and tls:
        raise SettingsError("CASEWORK_TEMPORAL_TLS is off, but a TLS file, server name or API key is set")
    if tls and address is None:
        raise SettingsError(
            "TLS and API keys are for a Temporal cluster of your own or Temporal Cloud: set CASEWORK_TEMPORAL_ADDRESS "
            "(the embedded Temporal server listens on loopback without TLS)"
        )
    return {
        "temporal_tls": tls,
        "temporal_tls_ca": files["ca"],
        "temporal_tls_cert": files["cert"],
        "temporal_tls_key": files["key"],
        "temporal_tls_server_name": server_name,
        "temporal_api_key": api_key,
    }


def _payload_keys(env: Mapping[str, str]) -> tuple[PayloadKey, ...]:
    try:
        return parse_payload_keys(env.get("CASEWORK_PAYLOAD_KEYS", ""))
    except PayloadKeyError as error:
        raise SettingsError(str(error)) from None


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in env.get(name, "").split(",") if origin.strip())


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise SettingsError(f"{name}: {raw} is not a readable file")
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise SettingsError(f"{name}: cannot read {raw}: {error.strerror}") from None
    return path


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or None
    if value is not None and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL")
    return value


def _redis_url(env: Mapping[str, str]) -> str | None:
    value = env.get("CASEWORK_REDIS_URL") or None
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("CASEWORK_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return value


def _timezone(env: Mapping[str, str], default: str) -> str:
    name = env.get("CASEWORK_TIMEZONE") or default
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"CASEWORK_TIMEZONE must be an IANA time zone such as Asia/Shanghai, got {name!r}") from None
    return name


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _duration(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_duration(raw, name)
    except PolicyError as error:
        raise SettingsError(f"{name} must be an ISO 8601 duration like PT1H, got {raw!r}") from error


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    return _port(env, name, 0) if env.get(name) else None


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _positive_int(env, name, default)
    if value > 65535:
        raise SettingsError(f"{name} must be a TCP port (1-65535), got {value}")
    return value
