"""Settings from the environment: the only place that reads it."""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from states.sla_policy import PolicyError, parse_policy

ROLES = ("agent", "supervisor", "auditor")
# For a first look on one's own machine only: refused when the API listens beyond loopback.
DEMO_USERS = "ann:agent:demo-agent-token,sam:supervisor:demo-supervisor-token,ada:auditor:demo-auditor-token"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    data_dir: Path = Path(".casework")
    database_url: str | None = None
    temporal_address: str | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "casework"
    users: tuple[User, ...] = ()
    demo_users: bool = False
    reopen_window_seconds: int = 30 * 24 * 3600
    events_per_run: int = 500
    max_body_bytes: int = 1_000_000
    # The service-level policy as plain data (CASEWORK_SLA_POLICY's TOML); None: the built-in default.
    sla_policy: dict[str, Any] | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)

    @property
    def read_model_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'casework.db').resolve()}"

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        host = env.get("CASEWORK_HTTP_HOST", cls.http_host)
        users_text = env.get("CASEWORK_USERS")
        demo = not users_text
        if demo and not _is_loopback(host):
            raise SettingsError(
                "CASEWORK_USERS is required when CASEWORK_HTTP_HOST is not a loopback address "
                "(the demo users' tokens are public)"
            )
        return cls(
            http_host=host,
            http_port=_port(env, "CASEWORK_HTTP_PORT", cls.http_port),
            data_dir=Path(env.get("CASEWORK_DATA_DIR", str(cls.data_dir))),
            database_url=env.get("CASEWORK_DATABASE_URL") or None,
            temporal_address=env.get("CASEWORK_TEMPORAL_ADDRESS") or None,
            temporal_port=_port(env, "CASEWORK_TEMPORAL_PORT", cls.temporal_port),
            temporal_ui_port=_port(env, "CASEWORK_TEMPORAL_UI_PORT", cls.temporal_ui_port),
            temporal_namespace=env.get("CASEWORK_TEMPORAL_NAMESPACE", cls.temporal_namespace),
            task_queue=env.get("CASEWORK_TASK_QUEUE", cls.task_queue),
            users=parse_users(users_text or DEMO_USERS),
            demo_users=demo,
            reopen_window_seconds=_positive_int(env, "CASEWORK_REOPEN_WINDOW_SECONDS", cls.reopen_window_seconds),
            events_per_run=_positive_int(env, "CASEWORK_EVENTS_PER_RUN", cls.events_per_run),
            max_body_bytes=_positive_int(env, "CASEWORK_MAX_BODY_BYTES", cls.max_body_bytes),
            sla_policy=load_sla_policy(env.get("CASEWORK_SLA_POLICY")),
            webhook_url=_url(env, "CASEWORK_WEBHOOK_URL"),
            webhook_secret=env.get("CASEWORK_WEBHOOK_SECRET") or None,
        )


def load_sla_policy(path: str | None) -> dict[str, Any] | None:
    """Read and check the policy file; its data travels to each case's workflow as plain JSON."""
    if not path:
        return None
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise SettingsError(f"CASEWORK_SLA_POLICY: cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"CASEWORK_SLA_POLICY ({path}) is not valid TOML: {error}") from None
    data = json.loads(json.dumps(data, default=str))  # TOML dates become ISO strings
    try:
        parse_policy(data)
    except PolicyError as error:
        raise SettingsError(f"CASEWORK_SLA_POLICY ({path}): {error}") from None
    return data


def parse_users(text: str) -> tuple[User, ...]:
    users = []
    for number, entry in enumerate(filter(None, (part.strip() for part in text.split(","))), start=1):
        parts = entry.split(":")
        if len(parts) != 3 or not all(parts):
            raise SettingsError(f"CASEWORK_USERS entry {number} must be name:role:token")
        name, role, token = parts
        if name == "system":
            raise SettingsError(f"CASEWORK_USERS entry {number}: the name 'system' is reserved for automatic actions")
        if role not in ROLES:
            raise SettingsError(f"CASEWORK_USERS entry {number} ({name}): role must be one of {', '.join(ROLES)}")
        if len(token) < 16:
            raise SettingsError(f"CASEWORK_USERS entry {number} ({name}): token must be at least 16 characters")
        users.append(User(name, role, token))
    if not users:
        raise SettingsError("CASEWORK_USERS names no user")
    if len({user.token for user in users}) != len(users):
        raise SettingsError("CASEWORK_USERS: two users share a token")
    return tuple(users)


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name) or None
    if value is not None and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL")
    return value


def _is_loopback(host: str) -> bool:
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


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _positive_int(env, name, default)
    if value > 65535:
        raise SettingsError(f"{name} must be a TCP port (1-65535), got {value}")
    return value
