"""The quality checks' settings: the scorecard (CASEWORK_RUBRIC), the sample size and the appeal window."""

import pytest

from service.settings import Settings, SettingsError
from states.scorecard import parse_rubric

RUBRIC = """
[[items]]
id = "accuracy"
zh = "准确性"
en = "Accuracy"
max = 70
[[items]]
id = "tone"
zh = "语气"
en = "Tone"
max = 30
[automatic]
item = "tone"
per_breach = 2
"""


def test_the_defaults_are_seed_002s_scorecard_five_a_week_and_seven_days_to_appeal():
    settings = Settings.from_env({})
    assert settings.rubric is None and settings.quality_sample == 5 and settings.appeal_window_seconds == 7 * 24 * 3600


def test_a_rubric_file_sample_size_and_appeal_days_are_read(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC, encoding="utf-8")
    settings = Settings.from_env({"CASEWORK_RUBRIC": str(path), "CASEWORK_QUALITY_SAMPLE": "8", "CASEWORK_APPEAL_DAYS": "3"})
    assert settings.rubric is not None
    rubric = parse_rubric(settings.rubric)
    assert [item.id for item in rubric.items] == ["accuracy", "tone"] and rubric.per_breach == 2
    assert settings.quality_sample == 8 and settings.appeal_window_seconds == 3 * 24 * 3600


@pytest.mark.parametrize(
    ("text", "named"), [("[[items]]\nid = 'a'\nzh = '甲'\nen = 'A'\nmax = 0\n", "items[0].max"), ("items = [\n", "not valid TOML")]
)
def test_a_bad_rubric_is_refused_at_start_naming_the_key(tmp_path, text, named):
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=named.replace("[", r"\[").replace("]", r"\]")):
        Settings.from_env({"CASEWORK_RUBRIC": str(path)})
