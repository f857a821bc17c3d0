"""Settings come from the environment and are refused with a message naming the variable."""

import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import DEMO_USERS, Settings, SettingsError, parse_users

CASEWORK = Path(sys.executable).parent / "casework"


def test_defaults_are_the_embedded_single_machine_setup():
    settings = Settings.from_env({})
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8000)
    assert settings.embedded_temporal and settings.temporal_target == "127.0.0.1:7233"
    assert settings.read_model_url.startswith("sqlite+aiosqlite:///") and settings.read_model_url.endswith(".casework/casework.db")
    assert settings.demo_users and [user.role for user in settings.users] == ["agent", "supervisor", "auditor"]


def test_every_documented_variable_is_read():
    settings = Settings.from_env(
        {
            "CASEWORK_HTTP_HOST": "0.0.0.0",
            "CASEWORK_HTTP_PORT": "9000",
            "CASEWORK_DATA_DIR": "/var/lib/casework",
            "CASEWORK_DATABASE_URL": "postgresql+asyncpg://cw@db/cw",
            "CASEWORK_TEMPORAL_ADDRESS": "temporal:7233",
            "CASEWORK_TEMPORAL_PORT": "7300",
            "CASEWORK_TEMPORAL_UI_PORT": "8300",
            "CASEWORK_USERS": "li:supervisor:0123456789abcdef0123",
            "CASEWORK_REOPEN_WINDOW_SECONDS": "60",
            "CASEWORK_EVENTS_PER_RUN": "50",
            "CASEWORK_SHUTDOWN_SECONDS": "5",
            "CASEWORK_TIMEZONE": "Europe/Berlin",
        }
    )
    assert (settings.http_host, settings.http_port, str(settings.data_dir)) == ("0.0.0.0", 9000, "/var/lib/casework")
    assert settings.read_model_url == "postgresql+asyncpg://cw@db/cw"
    assert not settings.embedded_temporal and settings.temporal_target == "temporal:7233"
    assert (settings.temporal_port, settings.temporal_ui_port) == (7300, 8300)
    assert [(user.name, user.role) for user in settings.users] == [("li", "supervisor")] and not settings.demo_users
    assert (settings.reopen_window_seconds, settings.events_per_run) == (60, 50)
    assert settings.shutdown_seconds == 5 and Settings.from_env({}).shutdown_seconds == 15
    assert settings.timezone == "Europe/Berlin" and Settings.from_env({}).timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CASEWORK_HTTP_PORT": "eighty"}, "CASEWORK_HTTP_PORT"),
        ({"CASEWORK_HTTP_PORT": "70000"}, "CASEWORK_HTTP_PORT"),
        ({"CASEWORK_EVENTS_PER_RUN": "0"}, "CASEWORK_EVENTS_PER_RUN"),
        ({"CASEWORK_SHUTDOWN_SECONDS": "0"}, "CASEWORK_SHUTDOWN_SECONDS"),
        ({"CASEWORK_USERS": "li:boss:0123456789abcdef0123"}, "role"),
        ({"CASEWORK_USERS": "li:agent"}, "name:role:token"),
        ({"CASEWORK_USERS": "li:agent:short"}, "16 characters"),
        ({"CASEWORK_USERS": "a:agent:0123456789abcdef0,b:auditor:0123456789abcdef0"}, "share a token"),
        ({"CASEWORK_HTTP_HOST": "0.0.0.0"}, r"CASEWORK_USERS \(or CASEWORK_USERS_FILE\) is required"),
        ({"CASEWORK_TIMEZONE": "Asia/Beijing"}, "CASEWORK_TIMEZONE"),
        ({"CASEWORK_TIMEZONE": "../../etc/passwd"}, "CASEWORK_TIMEZONE"),
    ],
)
def test_bad_settings_are_refused_naming_what_is_wrong(env, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_user_tokens_never_appear_in_a_repr():
    assert "demo-agent-token" not in repr(parse_users(DEMO_USERS))


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["api"]])
def test_every_command_has_help(command):
    result = subprocess.run([str(CASEWORK), *command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage: casework" in result.stdout


def test_a_bad_setting_stops_the_command_with_a_message_and_status_2():
    env = {"PATH": "/usr/bin:/bin", "CASEWORK_HTTP_PORT": "eighty"}
    result = subprocess.run([str(CASEWORK), "serve"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "CASEWORK_HTTP_PORT must be a whole number" in result.stderr


def test_a_policy_file_is_read_and_its_dates_become_text(tmp_path):
    policy = tmp_path / "sla.toml"
    policy.write_text(
        'warn_at = 0.8\npause_in = ["follow_up"]\nauto_escalate = ["urgent"]\n'
        '[targets.complaint.urgent]\nfirst_response = "PT10M"\nresolution = "PT8H"\nanalyse = "PT2H"\n'
        '[calendar]\ntimezone = "Asia/Shanghai"\nhours = { mon = "08:30-17:30", tue = "08:30-17:30" }\nholidays = [2026-10-01]\n'
    )
    settings = Settings.from_env({"CASEWORK_SLA_POLICY": str(policy)})
    policy_read = settings.sla_policy
    assert policy_read is not None
    assert policy_read["targets"]["complaint"]["urgent"]["first_response"] == "PT10M"
    assert policy_read["calendar"]["holidays"] == ["2026-10-01"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[targets.complaint.urgent]\nfirst_response = "soon"\n', "targets.complaint.urgent.first_response"),
        ("warn_at = 2\n", "warn_at"),
        ("[targets\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_refused_at_start_naming_the_key(tmp_path, text, named):
    policy = tmp_path / "sla.toml"
    policy.write_text(text)
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({"CASEWORK_SLA_POLICY": str(policy)})
    env = {"PATH": "/usr/bin:/bin", "CASEWORK_SLA_POLICY": str(policy)}
    result = subprocess.run([str(CASEWORK), "serve"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and named in result.stderr


def test_a_missing_policy_file_is_refused():
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_env({"CASEWORK_SLA_POLICY": "/no/such/policy.toml"})


def test_a_targets_file_is_read_and_judged_by(tmp_path):
    policy = tmp_path / "targets.toml"
    policy.write_text(
        "[department]\nresolution_rate = { at_least = 0.8 }\nresponse_mean_seconds = { at_most = 600 }\n"
        "[teams.north]\nresolution_rate = { at_least = 0.9 }\n[assessment]\nweights = { kpi = 0.4 }\n"
    )
    targets = Settings.from_env({"CASEWORK_TARGETS": str(policy)}).targets
    assert {kpi: (target.bound, target.value) for kpi, target in targets.for_team("north").items()} == {
        "resolution_rate": ("at_least", 0.9),
        "response_mean_seconds": ("at_most", 600),
    }
    assert "handling_mean_seconds" in Settings.from_env({}).targets.department  # the documented defaults


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[department]\nresolution_rate = { at_least = -1 }\n", "department.resolution_rate.at_least"),
        ("[department]\nhappiness = { at_least = 1 }\n", "department.happiness"),
        ("[teams.north]\nresolution_rate = { about = 1 }\n", "teams.north.resolution_rate"),
        ("[departmnet]\nresolution_rate = { at_least = 1 }\n", "departmnet: unknown table"),
    ],
)
def test_a_bad_targets_file_is_refused_at_start_naming_the_file_and_key(tmp_path, text, named):
    policy = tmp_path / "targets.toml"
    policy.write_text(text)
    with pytest.raises(SettingsError, match=f"CASEWORK_TARGETS \\({policy}\\): {named}"):
        Settings.from_env({"CASEWORK_TARGETS": str(policy)})


def test_the_example_targets_file_is_valid():
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "targets.toml"
    targets = Settings.from_env({"CASEWORK_TARGETS": str(example)}).targets
    assert targets.for_team("north")["response_mean_seconds"].value == 1200


def test_the_escalation_window_is_an_iso_duration_of_an_hour_by_default():
    assert Settings.from_env({}).escalation_window_seconds == 3600
    assert Settings.from_env({"CASEWORK_ESCALATION_WINDOW": "PT15M"}).escalation_window_seconds == 900
    with pytest.raises(SettingsError, match="CASEWORK_ESCALATION_WINDOW"):
        Settings.from_env({"CASEWORK_ESCALATION_WINDOW": "an hour"})
