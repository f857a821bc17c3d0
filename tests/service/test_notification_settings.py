"""CASEWORK_NOTIFICATIONS and CASEWORK_PUBLIC_URL: read and checked at start, naming the bad field."""

import pytest

from service.settings import Settings, SettingsError
from states.vocabulary import ChannelType, MessageKind


def test_the_notifications_file_is_read_and_the_old_webhook_joins_it(tmp_path):
    path = tmp_path / "notifications.toml"
    path.write_text(
        '[[channels]]\nname = "群"\ntype = "feishu"\nurl = "https://open.feishu.cn/hook/x"\nevents = ["breached"]\n\n[rules]\nbreached = ["owner"]\n'
    )
    settings = Settings.from_env({"CASEWORK_NOTIFICATIONS": str(path), "CASEWORK_WEBHOOK_URL": "https://hooks.example.com/cw"})
    policy = settings.notification_policy
    assert [(channel.name, channel.type) for channel in policy.channels] == [("群", ChannelType.FEISHU), ("webhook", ChannelType.WEBHOOK)]
    assert [channel.name for channel in policy.channels_for(MessageKind.ASSIGNED)] == ["webhook"]
    assert [audience.value for audience in policy.audiences(MessageKind.BREACHED)] == ["owner"]


def test_a_bad_notifications_file_stops_the_start_naming_the_field(tmp_path):
    path = tmp_path / "notifications.toml"
    path.write_text('[[channels]]\nname = "a"\ntype = "pager"\nurl = "https://x"\n')
    with pytest.raises(SettingsError, match=r"CASEWORK_NOTIFICATIONS .*channels\[0\]\.type"):
        Settings.from_env({"CASEWORK_NOTIFICATIONS": str(path)})


def test_links_in_messages_go_to_the_public_url_or_where_the_api_listens():
    assert Settings.from_env({}).console_url == "http://127.0.0.1:8000"
    assert Settings.from_env({"CASEWORK_PUBLIC_URL": "https://casework.example.com/"}).console_url == "https://casework.example.com"
    with pytest.raises(SettingsError, match="CASEWORK_PUBLIC_URL"):
        Settings.from_env({"CASEWORK_PUBLIC_URL": "casework.example.com"})
