"""The directory: people who sign in to the console, and API tokens issued to them.

It lives in the read-model database, so `casework users …` changes it while the API runs, and every
API replica sees a change on its next request: nothing here is cached.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from service.passwords import hash_password, password_matches
from service.read_model import ReadModel
from service.settings import ROLES, User, hash_token
from service.tables import api_tokens, users
from states.case import as_utc
from states.vocabulary import SYSTEM, Role

log = logging.getLogger("casework.directory")

LANGUAGES = ("zh-CN", "en")
# A person's addresses on the channels (service/tables.py users), and their longest.
ADDRESS_LENGTHS = {"email": 200, "wecom_id": 100, "dingtalk_id": 100, "feishu_id": 100}
ADDRESS_FIELDS = tuple(ADDRESS_LENGTHS)
MIN_PASSWORD_LENGTH = 8
# `casework serve` on loopback with an empty directory and no CASEWORK_USERS: public, like the demo
# tokens, and refused off loopback (see demo_passwords_in_use).
DEMO_PEOPLE = (
    ("ann", Role.AGENT, "Ann", "ann-demo-password"),
    ("sam", Role.SUPERVISOR, "Sam", "sam-demo-password"),
    ("ada", Role.AUDITOR, "Ada", "ada-demo-password"),
)
# A token's last use is written at most this often, so that a busy client does not write on every request.
LAST_USED_PRECISION = timedelta(minutes=5)


class DirectoryError(ValueError):
    """A change the directory refuses; the message says why, naming the user."""


@dataclass(frozen=True)
class Person:
    name: str
    display_name: str
    role: str
    disabled: bool
    language: str
    created_at: datetime
    updated_at: datetime
    away_from: datetime | None = None  # on leave in [away_from, away_to)
    away_to: datetime | None = None
    shifts: dict[str, Any] | None = None  # their own shifts; None: their teams' (routing)
    # Their addresses on the channels (email; IM user ids for @-mentions); any may be missing.
    email: str | None = None
    wecom_id: str | None = None
    dingtalk_id: str | None = None
    feishu_id: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # shown once; only its hash is stored


class Directory:
    def __init__(self, read_model: ReadModel):
        self._engine = read_model.engine

    async def add(self, name: str, role: str, password: str | None, display_name: str | None = None, language: str = LANGUAGES[0]) -> Person:
        """`password` None: the user cannot sign in to the console until one is set (their hash is of
        a random secret nobody holds), but may be given API tokens and named as an owner."""
        _check_name(name)
        _check_role(role)
        if password is not None:
            check_new_password(password)
        if language not in LANGUAGES:
            raise DirectoryError(f"language must be one of {', '.join(LANGUAGES)}")
        now = datetime.now(UTC)
        password_hash = await hash_password(password if password is not None else secrets.token_urlsafe(32))
        row = {"name": name, "display_name": (display_name or name).strip() or name, "role": role, "password_hash": password_hash,
               "disabled": False, "language": language, "created_at": now, "updated_at": now}  # fmt: skip
        try:
            async with self._engine.begin() as connection:
                await connection.execute(users.insert().values(row))
        except IntegrityError:
            raise DirectoryError(f"a user named {name!r} exists already") from None
        log.info("user %s added as %s", name, role)
        return _person(row)

    async def people(self) -> list[Person]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(users).order_by(users.c.name))).mappings().all()
        return [_person(row) for row in rows]

    async def enabled_names(self, role: str, configured: Iterable[User] = ()) -> list[str]:
        """The names of the enabled people of `role`, from the directory and CASEWORK_USERS (`configured`)
        alike; a name the directory lists is judged by the directory (disabled there: left out)."""
        people = await self.people()
        listed = {person.name for person in people}
        names = {person.name for person in people if person.role == role and not person.disabled}
        names.update(user.name for user in configured if user.role == role and user.name not in listed)
        return sorted(names)

    async def person(self, name: str) -> Person | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(users).where(users.c.name == name))).mappings().first()
        return _person(row) if row else None

    async def is_empty(self) -> bool:
        async with self._engine.connect() as connection:
            return not (await connection.execute(select(exists().select_from(users)))).scalar()

    async def set_password(self, name: str, password: str) -> None:
        check_new_password(password)
        await self._change(name, password_hash=await hash_password(password))
        log.info("password of user %s changed", name)

    async def disable(self, name: str) -> None:
        """From the next request on, the user's sessions and tokens are refused (both check `disabled`)."""
        await self._change(name, disabled=True)
        log.info("user %s disabled", name)

    async def enable(self, name: str) -> None:
        """Disabled no more: their password and unrevoked tokens work again."""
        await self._change(name, disabled=False)
        log.info("user %s enabled", name)

    async def set_role(self, name: str, role: str) -> None:
        """From the next request on: tokens and sessions read the role from here on every request."""
        _check_role(role)
        await self._change(name, role=role)
        log.info("user %s is now a %s", name, role)

    async def set_display_name(self, name: str, display_name: str) -> None:
        await self._change(name, display_name=display_name.strip() or name)

    async def set_language(self, name: str, language: str) -> None:
        if language not in LANGUAGES:
            raise DirectoryError(f"language must be one of {', '.join(LANGUAGES)}")
        await self._change(name, language=language)

    async def set_addresses(self, name: str, addresses: dict[str, str | None]) -> None:
        """Change the addresses given (ADDRESS_FIELDS); an empty value removes one."""
        unknown = sorted(set(addresses) - set(ADDRESS_FIELDS))
        if unknown:
            raise DirectoryError(f"{unknown[0]} is not an address (addresses: {', '.join(ADDRESS_FIELDS)})")
        values = {key: (value.strip() or None) if isinstance(value, str) else None for key, value in addresses.items()}
        for key, value in values.items():
            if value is not None and (len(value) > ADDRESS_LENGTHS[key] or not value.isprintable()):
                raise DirectoryError(f"{key} of {name!r} is too long or not printable")
        email = values.get("email")
        if email and "@" not in email:
            raise DirectoryError(f"email of {name!r} is not an email address")
        if values:
            await self._change(name, **values)

    async def _change(self, name: str, **values) -> None:
        async with self._engine.begin() as connection:
            result = await connection.execute(update(users).where(users.c.name == name).values(updated_at=datetime.now(UTC), **values))
        if not result.rowcount:
            raise DirectoryError(f"no user named {name!r}")

    async def issue_token(self, name: str, label: str = "") -> IssuedToken:
        if await self.person(name) is None:
            raise DirectoryError(f"no user named {name!r}")
        issued = IssuedToken(secrets.token_hex(8), "cw_" + secrets.token_urlsafe(32))
        row = {"id": issued.id, "user_name": name, "label": label, "token_hash": hash_token(issued.token),
               "created_at": datetime.now(UTC), "last_used_at": None, "revoked": False}  # fmt: skip
        async with self._engine.begin() as connection:
            await connection.execute(api_tokens.insert().values(row))
        log.info("API token %s issued to user %s", issued.id, name)
        return issued

    async def user_for_token(self, token: str) -> User | None:
        """The enabled user whose unrevoked token this is, or None."""
        token_hash = hash_token(token)
        query = (
            select(api_tokens.c.id, api_tokens.c.last_used_at, users.c.name, users.c.role)
            .join(users, users.c.name == api_tokens.c.user_name)
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked.is_(False), users.c.disabled.is_(False))
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        now = datetime.now(UTC)
        if row.last_used_at is None or as_utc(row.last_used_at) < now - LAST_USED_PRECISION:
            async with self._engine.begin() as connection:
                await connection.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now))
        return User(row.name, row.role, token_hash)

    async def enabled_person(self, name: str) -> Person | None:
        person = await self.person(name)
        return person if person is not None and not person.disabled else None

    async def check_password(self, name: str, password: str) -> Person | None:
        """The enabled user with this name and password, or None; as slow whichever was wrong."""
        row = None
        if _is_possible_name(name):  # a name no user can have is not asked of the database (which may refuse to hold it)
            async with self._engine.connect() as connection:
                row = (await connection.execute(select(users).where(users.c.name == name))).mappings().first()
        matches = await password_matches(row["password_hash"] if row else None, password)
        if not matches or row is None or row["disabled"]:
            return None
        return _person(row)

    async def add_demo_users(self) -> None:
        for name, role, display_name, password in DEMO_PEOPLE:
            await self.add(name, role, password, display_name)

    async def demo_passwords_in_use(self) -> dict[str, str]:
        """The enabled users who still have their public demo password, and that password."""
        enabled = {person.name for person in await self.people() if not person.disabled}
        return {name: password for name, _, _, password in DEMO_PEOPLE if name in enabled and await self.check_password(name, password)}


def _is_possible_name(name: str) -> bool:
    return 0 < len(name) <= 100 and name.isprintable() and not any(char.isspace() for char in name)


def _check_name(name: str) -> None:
    if not _is_possible_name(name):
        raise DirectoryError("a name is 1 to 100 printable characters without spaces")
    if name == SYSTEM:
        raise DirectoryError(f"the name {SYSTEM!r} is reserved for automatic actions")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise DirectoryError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


def check_new_password(password: str) -> None:
    if not password:
        raise DirectoryError("the password is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DirectoryError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")


def _person(row) -> Person:
    away_from, away_to = row.get("away_from"), row.get("away_to")
    return Person(
        row["name"],
        row["display_name"],
        row["role"],
        bool(row["disabled"]),
        row["language"],
        as_utc(row["created_at"]),
        as_utc(row["updated_at"]),
        as_utc(away_from) if away_from else None,
        as_utc(away_to) if away_to else None,
        row.get("shifts"),
        *(row.get(key) for key in ADDRESS_FIELDS),
    )
