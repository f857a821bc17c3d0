"""The production compose file, Dockerfile and .env.example, checked without a Docker engine.

No Docker engine runs on our machines, so nothing here starts a container: the compose file is
validated against the Compose specification's JSON schema (vendored by check-jsonschema, offline),
and the facts that make it work — start order, health checks, scaling, settings, secrets, a non-root
image — are asserted on the parsed files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.files import (
    COMPOSE,
    DEPLOY_DOC,
    ENV_EXAMPLE,
    REQUIRED_VARIABLE,
    ROOT,
    VARIABLE,
    compose,
    depends_on,
    dockerfile_instructions,
    dockerignore_patterns,
    documented_settings,
    env_file_names,
    environment,
    stages,
)

APP_SERVICES = ("api", "worker")


def check_jsonschema() -> Path:
    """Installed with the test extras into the same environment as this Python."""
    executable = Path(sys.executable).parent / "check-jsonschema"
    if not executable.exists():
        pytest.fail(f"{executable} is missing: install the test extras (pip install -e '.[test]')")
    return executable


def validate_against_compose_spec(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(check_jsonschema()), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- the Compose specification ------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification_schema():
    result = validate_against_compose_spec(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_rejects_what_compose_would_reject(tmp_path):
    # Guards against a validation that passes anything: a misspelt key and an unknown condition.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text()
        .replace("stop_grace_period: 30s", "stop_grace_periode: 30s", 1)
        .replace("condition: service_healthy", "condition: service_ready", 1)
    )
    result = validate_against_compose_spec(broken)
    assert result.returncode != 0
    assert "stop_grace_periode" in result.stdout
    assert "service_ready" in result.stdout


# --- services, start order and health ------------------------------------------------------------


def test_compose_runs_postgres_temporal_its_ui_and_both_casework_commands_from_official_images():
    services = compose()["services"]
    assert set(services) >= {"postgres", "temporal", "temporal-ui", "api", "worker"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
        assert services[name]["image"] == services["api"]["image"]
    assert services["api"]["command"] == ["api"]
    assert services["worker"]["command"] == ["worker"]


def test_api_and_worker_can_be_scaled_without_name_or_host_port_clashes():
    services = compose()["services"]
    for name in APP_SERVICES:
        assert "container_name" not in services[name], name
    assert "ports" not in services["worker"]
    for port in services["api"]["ports"]:
        # Long syntax without `published`: each replica gets its own free host port.
        assert isinstance(port, dict), port
        assert port["target"] == 8000
        assert "published" not in port, port


def test_every_service_something_depends_on_has_a_health_check_and_is_awaited_healthy():
    services = compose()["services"]
    needed = set()
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            if dependency == "migrate":  # a one-shot job: awaited until it has finished
                assert condition.get("condition") == "service_completed_successfully", (name, dependency)
                continue
            assert condition.get("condition") == "service_healthy", (name, dependency)
            needed.add(dependency)
    assert needed >= {"postgres", "temporal"}
    for name in needed | {"api"}:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_casework_starts_after_postgres_and_temporal_and_temporal_after_postgres():
    services = compose()["services"]
    for name in APP_SERVICES:
        assert set(depends_on(services[name])) == {"postgres", "temporal", "migrate"}
    assert set(depends_on(services["temporal"])) == {"postgres"}
    assert set(depends_on(services["temporal-ui"])) == {"temporal"}


def test_health_checks_use_what_each_image_has():
    services = compose()["services"]
    postgres = services["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in postgres and "127.0.0.1" in postgres
    temporal = " ".join(services["temporal"]["healthcheck"]["test"])
    assert "temporal operator cluster health" in temporal and "--address temporal:7233" in temporal
    # No curl in python:3.11-slim: the API's check is Python asking GET /health.
    api = services["api"]["healthcheck"]["test"]
    assert api[:2] == ["CMD", "python"]
    assert "http://127.0.0.1:8000/health" in api[-1]


# --- settings and secrets ------------------------------------------------------------------------


def test_casework_settings_in_compose_are_the_documented_ones():
    documented = documented_settings()
    assert {"CASEWORK_TEMPORAL_ADDRESS", "CASEWORK_DATABASE_URL", "CASEWORK_USERS"} <= documented
    services = compose()["services"]
    used = {key for name in APP_SERVICES for key in environment(services[name]) if key.startswith("CASEWORK_")}
    used |= {name for name in VARIABLE.findall(COMPOSE.read_text()) if name.startswith("CASEWORK_")}
    assert used, "compose sets no Casework setting"
    assert used <= documented, f"not in the settings tables: {sorted(used - documented)}"


def test_casework_reaches_temporal_and_postgres_by_service_name():
    services = compose()["services"]
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env["CASEWORK_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["CASEWORK_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in env["CASEWORK_DATABASE_URL"]
    temporal = environment(services["temporal"])
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] == "postgres"
    assert temporal["DB_PORT"] == "5432"


def test_api_listens_beyond_loopback_only_with_users_from_env_file():
    env = environment(compose()["services"]["api"])
    assert env["CASEWORK_HTTP_HOST"] == "0.0.0.0"
    assert env["CASEWORK_HTTP_PORT"] == "8000"
    assert env["CASEWORK_USERS"].startswith("${CASEWORK_USERS:?")
    # The worker serves no HTTP and needs no tokens.
    assert "CASEWORK_USERS" not in environment(compose()["services"]["worker"])


def test_no_secret_is_written_into_the_compose_file():
    services = compose()["services"]
    secrets = {
        "postgres": ("POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "READ_MODEL_DB_PASSWORD"),
        "temporal": ("POSTGRES_PWD",),
        "api": ("CASEWORK_USERS",),
    }
    for name, keys in secrets.items():
        env = environment(services[name])
        for key in keys:
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", env[key]), (name, key, env[key])
    for name in APP_SERVICES:
        url = environment(services[name])["CASEWORK_DATABASE_URL"]
        assert ":${READ_MODEL_DB_PASSWORD:?" in url
    assert environment(services["worker"])["CASEWORK_WEBHOOK_SECRET"] == "${CASEWORK_WEBHOOK_SECRET:-}"


def test_env_example_names_every_required_variable_with_placeholders():
    names = env_file_names(ENV_EXAMPLE)
    assert {"CASEWORK_USERS", "POSTGRES_PASSWORD"} <= names
    required = set(REQUIRED_VARIABLE.findall(COMPOSE.read_text()))
    assert required >= {"CASEWORK_USERS", "POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "READ_MODEL_DB_PASSWORD"}
    assert required <= names, f"missing from .env.example: {sorted(required - names)}"
    optional = set(VARIABLE.findall(COMPOSE.read_text())) - required
    assert optional <= names, f"missing from .env.example: {sorted(optional - names)}"


def test_env_example_holds_no_usable_secret():
    values = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#"))
    for name in ("POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "READ_MODEL_DB_PASSWORD"):
        assert values[name] == "", f"{name} must be left empty in .env.example"
    # Casework refuses tokens under 16 characters, so the placeholders cannot go live by accident.
    from service.settings import SettingsError, parse_users

    with pytest.raises(SettingsError, match="at least 16 characters"):
        parse_users(values["CASEWORK_USERS"])


def test_env_files_stay_out_of_the_image_build_context():
    ignored = dockerignore_patterns()
    assert ".env" in ignored and ".env.*" in ignored
    assert ".venv" in ignored and ".git" in ignored


# --- the image -----------------------------------------------------------------------------------


def test_dockerfile_builds_in_a_separate_stage_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    built = stages(instructions)
    assert len(built) >= 2, "the Dockerfile needs a builder stage and a runtime stage"
    assert re.search(r"\bAS builder\b", built[0][0].arguments, re.IGNORECASE)
    runtime = built[-1]
    assert any(i.keyword == "COPY" and i.arguments.startswith("--from=builder") for i in runtime)
    users = [i.arguments for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


def test_image_runs_the_casework_command_with_api_by_default():
    instructions = dockerfile_instructions()
    args = {i.keyword: i.arguments for i in instructions if i.keyword in ("ENTRYPOINT", "CMD", "ARG")}
    assert args["ENTRYPOINT"] == '["casework"]'
    assert args["CMD"] == '["api"]'
    assert "python:3.11-slim" in args["ARG"]
    runtime_from = stages(instructions)[-1][0].arguments
    assert runtime_from in ("${PYTHON_IMAGE}", "python:3.11-slim")


def test_image_installs_every_package_the_project_declares():
    # A package left out of the build context would only fail at `docker build`, which CI cannot run.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # A sub-package (service.migrations) comes with its top-level folder.
    needed = {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]} | {"pyproject.toml", project["project"]["readme"]}
    copied = set()
    for instruction in dockerfile_instructions():
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--"):
            copied.update(instruction.arguments.split()[:-1])  # every argument but the destination
    assert needed <= copied, f"not copied into the builder: {sorted(needed - copied)}"
    ignored = dockerignore_patterns()
    assert not needed & ignored, f"excluded from the build context: {sorted(needed & ignored)}"


# --- the deployment guide ------------------------------------------------------------------------


def test_deploy_guide_points_at_files_that_exist():
    text = DEPLOY_DOC.read_text()
    for path in sorted(set(re.findall(r"`((?:tests|service|workflows|docs)/[\w./-]+\.(?:py|md))`", text))):
        assert (ROOT / path).exists(), path
    assert "workflow.patched" in text
    assert "python -m tests.workflows.record_histories" in text
