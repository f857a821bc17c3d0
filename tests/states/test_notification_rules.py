"""The notification policy: channels and rules parsed with errors naming the field, and which
message an event is."""

import pytest

from states.machine import SPECS
from states.notification_rules import (
    DEFAULT_RULES,
    Audience,
    Subject,
    event_message,
    kinds_for_role,
    message_kind,
    named_people,
    parse_notification_policy,
)
from states.policy_error import PolicyError
from states.vocabulary import ChannelType, Kind, MessageKind, Role, SystemAction

ROBOT = {"name": "ops-group", "type": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "events": ["breached"]}


def test_no_file_means_the_issues_default_rules_and_no_channels():
    policy = parse_notification_policy(None)
    assert policy.channels == ()
    assert policy.audiences(MessageKind.ASSIGNED) == (Audience.OWNER,)
    assert policy.audiences(MessageKind.BREACHED) == (Audience.OWNER, Audience.TEAM_SUPERVISORS)
    assert policy.audiences(MessageKind.ESCALATED) == (Audience.SUPERVISORS, Audience.TEAM_SUPERVISORS)
    assert policy.audiences(MessageKind.MEETING_SCHEDULED) == (Audience.PARTICIPANTS,)
    assert policy.audiences(MessageKind.ASSESSMENT_READY) == (Audience.AGENT,)
    assert set(DEFAULT_RULES) == set(MessageKind)


def test_channels_and_rules_are_read_and_rules_override_only_what_they_name():
    email = {"name": "mail", "type": "email", "host": "smtp.example.com", "port": 2525, "sender": "cw@example.com", "events": ["assigned"]}
    policy = parse_notification_policy({"channels": [ROBOT, email], "rules": {"assigned": ["owner", "team_supervisors"]}})
    assert [channel.name for channel in policy.channels_for(MessageKind.BREACHED)] == ["ops-group"]
    mail = policy.channel("mail")
    assert mail is not None and mail.port == 2525
    assert policy.audiences(MessageKind.ASSIGNED) == (Audience.OWNER, Audience.TEAM_SUPERVISORS)
    assert policy.audiences(MessageKind.DUE_SOON) == (Audience.OWNER,)


def test_the_old_webhook_url_is_a_webhook_channel_for_every_kind():
    policy = parse_notification_policy(None, "http://127.0.0.1:9/hook", "whsec_x")
    (webhook,) = policy.channels
    assert webhook.type == ChannelType.WEBHOOK and webhook.events == frozenset(MessageKind) and webhook.secret == "whsec_x"
    # The legacy webhook: the office sends it every case event, whoever hears of it.
    assert webhook.legacy and policy.legacy_webhook() == webhook
    assert parse_notification_policy({"channels": [ROBOT]}).legacy_webhook() is None


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"channels": [{**ROBOT, "type": "pager"}]}, "channels[0].type"),
        ({"channels": [{**ROBOT, "type": "inbox"}]}, "channels[0].type"),
        ({"channels": [ROBOT, {**ROBOT, "events": ["late"]}]}, "channels[1].events"),
        ({"channels": [{**ROBOT, "url": None}]}, "channels[0].url"),
        ({"channels": [{"name": "m", "type": "email", "sender": "a@b"}]}, "channels[0].host"),
        ({"channels": [ROBOT, ROBOT]}, "channels[1].name"),
        ({"channels": [{**ROBOT, "colour": "red"}]}, "channels[0].colour"),
        ({"rules": {"assigned": ["boss"]}}, "rules.assigned"),
        ({"rules": {"lunch": ["owner"]}}, "rules"),
        ({"routes": {}}, "routes"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(data, key):
    with pytest.raises(PolicyError) as refused:
        parse_notification_policy(data)
    assert refused.value.key == key


def test_which_message_an_event_is():
    complaint = SPECS[Kind.COMPLAINT]
    assert message_kind(complaint, "assign") == MessageKind.ASSIGNED
    assert message_kind(complaint, "escalate") == MessageKind.ESCALATED
    assert message_kind(complaint, "comment") is None
    assert message_kind(complaint, SystemAction.SLA_WARNING) == MessageKind.DUE_SOON
    assert message_kind(complaint, SystemAction.SLA_BREACHED) == MessageKind.BREACHED
    assert message_kind(None, SystemAction.ACTION_ITEM_DUE_SOON) == MessageKind.ACTION_ITEM_DUE
    assert message_kind(None, SystemAction.ACTION_ITEM_OVERDUE) == MessageKind.ACTION_ITEM_OVERDUE
    assert message_kind(complaint, SystemAction.REPORT) == complaint.report_message


def test_routing_a_new_case_to_someone_else_is_an_assignment():
    complaint = SPECS[Kind.COMPLAINT]
    assert event_message(complaint, SystemAction.DISPATCH, {"team": "t", "owner": "hua"}, "ann") == MessageKind.ASSIGNED
    assert event_message(complaint, SystemAction.DISPATCH, {"team": None, "owner": "ann"}, "ann") is None
    assert event_message(complaint, SystemAction.DISPATCH, {"team": "t", "owner": None}, "ann") is None
    assert event_message(complaint, "assign", {"owner": "bo"}, "ann") == MessageKind.ASSIGNED


def test_named_people_come_from_the_case_once_each():
    subject = Subject(owner="ann", data={"host": "sam", "recorder": "ann", "participants": ["bo", "sam"]}, action_item_owner="lee", agent="cy")
    assert named_people((Audience.OWNER, Audience.PARTICIPANTS), subject) == ["ann", "sam", "bo"]
    assert named_people((Audience.ACTION_ITEM_OWNER, Audience.AGENT, Audience.SUPERVISORS), subject) == ["lee", "cy"]


def test_the_actor_is_never_among_those_named():
    subject = Subject(owner="sam", data={"host": "sam", "recorder": "ann"}, named=("sam", "bo"), actor="sam")
    assert named_people((Audience.OWNER, Audience.PARTICIPANTS, Audience.NAMED), subject) == ["ann", "bo"]


def test_being_named_and_given_an_action_item_are_messages():
    for kind in (Kind.INCIDENT, Kind.MEETING):
        assert message_kind(SPECS[kind], "set_attendees") == MessageKind.ATTENDEE_NAMED
        assert message_kind(SPECS[kind], "add_action_item") == MessageKind.ACTION_ITEM_ASSIGNED
    policy = parse_notification_policy(None)
    assert policy.audiences(MessageKind.ATTENDEE_NAMED) == (Audience.NAMED,)
    assert policy.audiences(MessageKind.ACTION_ITEM_ASSIGNED) == (Audience.ACTION_ITEM_OWNER,)


def test_a_role_sees_only_the_kinds_that_can_reach_it():
    policy = parse_notification_policy(None)
    agent = kinds_for_role(policy, Role.AGENT)
    assert MessageKind.EMERGENCY_RAISED not in agent and MessageKind.ESCALATED not in agent
    assert MessageKind.ASSIGNED in agent and MessageKind.QUALITY_SCORED in agent
    supervisor = kinds_for_role(policy, Role.SUPERVISOR)
    assert MessageKind.EMERGENCY_RAISED in supervisor and MessageKind.ASSESSMENT_READY not in supervisor
    custom = parse_notification_policy({"rules": {"emergency_raised": ["supervisors", "owner"]}})
    assert MessageKind.EMERGENCY_RAISED in kinds_for_role(custom, Role.AGENT)


def test_the_example_file_is_a_valid_policy():
    import tomllib
    from pathlib import Path

    example = Path(__file__).parents[2] / "docs" / "examples" / "notifications.toml"
    policy = parse_notification_policy(tomllib.loads(example.read_text()))
    assert [channel.type for channel in policy.channels] == [ChannelType.WECOM, ChannelType.DINGTALK, ChannelType.EMAIL, ChannelType.WEBHOOK]
    assert dict(policy.rules) == DEFAULT_RULES
