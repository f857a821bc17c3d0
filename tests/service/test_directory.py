"""The directory on SQLite and PostgreSQL: users with argon2id passwords, API tokens kept as hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.directory import DEMO_PEOPLE, Directory, DirectoryError
from service.settings import hash_token
from service.tables import api_tokens, users


async def test_a_user_is_added_with_an_argon2id_hash_and_listed(read_model):
    directory = Directory(read_model)
    person = await directory.add("li", "supervisor", "correct horse", "李 经理", "en")
    assert (person.name, person.role, person.display_name, person.language, person.disabled) == ("li", "supervisor", "李 经理", "en", False)
    async with read_model.engine.connect() as connection:
        stored = (await connection.execute(select(users.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    await directory.add("wu", "agent", "another secret")
    assert [(p.name, p.display_name, p.language) for p in await directory.people()] == [("li", "李 经理", "en"), ("wu", "wu", "zh-CN")]
    checked = await directory.check_password("li", "correct horse")
    assert checked is not None and checked.name == "li"
    assert await directory.check_password("li", "correct horsE") is None
    assert await directory.check_password("nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("li", "supervisor", "long enough", "exists already"),
        ("wu", "boss", "long enough", "role must be one of agent, supervisor, auditor"),
        ("wu", "agent", "", "the password is empty"),
        ("wu", "agent", "short", "at least 8 characters"),
        ("system", "agent", "long enough", "reserved"),
        ("wu wei", "agent", "long enough", "without spaces"),
    ],
)
async def test_a_bad_user_is_refused_with_a_reason(read_model, name, role, password, message):
    directory = Directory(read_model)
    await directory.add("li", "supervisor", "long enough")
    with pytest.raises(DirectoryError, match=message):
        await directory.add(name, role, password)
    assert [p.name for p in await directory.people()] == ["li"]


async def test_a_token_is_stored_as_its_hash_and_names_its_user_until_the_user_is_disabled(read_model):
    directory = Directory(read_model)
    await directory.add("li", "supervisor", "long enough")
    issued = await directory.issue_token("li", "crm")
    async with read_model.engine.connect() as connection:
        row = (await connection.execute(select(api_tokens))).mappings().one()
    assert row["token_hash"] == hash_token(issued.token) and row["label"] == "crm" and row["last_used_at"] is None
    user = await directory.user_for_token(issued.token)
    assert user is not None and (user.name, user.role) == ("li", "supervisor")
    async with read_model.engine.connect() as connection:
        assert (await connection.execute(select(api_tokens.c.last_used_at))).scalar_one() is not None
    assert await directory.user_for_token(issued.token + "x") is None
    await directory.disable("li")
    assert await directory.user_for_token(issued.token) is None
    assert await directory.check_password("li", "long enough") is None


async def test_changes_to_an_unknown_user_are_refused(read_model):
    directory = Directory(read_model)
    for change in (directory.set_password("ghost", "long enough"), directory.disable("ghost"), directory.issue_token("ghost")):
        with pytest.raises(DirectoryError, match="no user named 'ghost'"):
            await change


async def test_a_new_password_replaces_the_old_one(read_model):
    directory = Directory(read_model)
    await directory.add("li", "agent", "first password")
    await directory.set_password("li", "second password")
    assert await directory.check_password("li", "first password") is None
    assert await directory.check_password("li", "second password") is not None


async def test_demo_users_are_known_by_their_public_passwords_until_changed(read_model):
    directory = Directory(read_model)
    assert await directory.is_empty()
    await directory.add_demo_users()
    assert [(p.name, p.role) for p in await directory.people()] == [("ada", "auditor"), ("ann", "agent"), ("sam", "supervisor")]
    assert await directory.demo_passwords_in_use() == {name: password for name, _, _, password in DEMO_PEOPLE}
    await directory.set_password("ann", "a private one")
    await directory.disable("ada")
    assert list(await directory.demo_passwords_in_use()) == ["sam"]


async def test_a_users_language_is_remembered_and_only_a_known_one(read_model):
    directory = Directory(read_model)
    await directory.add("li", "agent", "long enough")
    await directory.set_language("li", "en")
    person = await directory.person("li")
    assert person is not None and person.language == "en"
    with pytest.raises(DirectoryError, match="language must be one of zh-CN, en"):
        await directory.set_language("li", "fr")
