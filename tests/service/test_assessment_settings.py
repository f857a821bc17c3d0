"""CASEWORK_TARGETS' [assessment] table is checked when settings load, naming the key."""

import pytest

from service.settings import Settings, SettingsError


def test_a_bad_assessment_weight_stops_the_settings_naming_the_key(tmp_path):
    policy = tmp_path / "targets.toml"
    policy.write_text("[assessment]\nweights = { quality = -0.5 }\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"CASEWORK_TARGETS: assessment\.weights\.quality"):
        Settings.from_env({"CASEWORK_TARGETS": str(policy)})


def test_a_good_assessment_table_is_kept_with_the_targets(tmp_path):
    policy = tmp_path / "targets.toml"
    policy.write_text("[department]\nresolution_rate = { at_least = 0.9 }\n[assessment]\nweights = { self = 0.1 }\n", encoding="utf-8")
    targets = Settings.from_env({"CASEWORK_TARGETS": str(policy)}).targets_policy
    assert targets is not None and targets["assessment"] == {"weights": {"self": 0.1}}
