from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, exists, false, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

from broadsheet.domain import rules
from broadsheet.domain.models import UNCHANGED, NewUser, Profile, Role, User, UserChanges
from broadsheet.storage.sql.dialects import inserted_id, unique_violations_as_domain_errors
from broadsheet.storage.sql.tables import follow, user_account

# The viewer of a read, a parameter of every statement that says what they follow or favorited.
VIEWER_ID: BindParameter[int] = bindparam("viewer_id")


def following(signed_in: bool, followee_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the viewer (``viewer_id``) follows ``followee_id``, as a correlated EXISTS;
    false for an anonymous reader."""
    if not signed_in:
        return false()
    return exists().where(follow.c.follower_id == VIEWER_ID, follow.c.followee_id == followee_id)


def _profile_columns(signed_in: bool) -> Select[Any]:
    return select(
        user_account.c.username,
        user_account.c.bio,
        user_account.c.image,
        following(signed_in, user_account.c.id).label("following"),
    )


@functools.cache
def _profile_statement(signed_in: bool) -> Select[Any]:
    return _profile_columns(signed_in).where(
        user_account.c.username_key == bindparam("username_key")
    )


@functools.cache
def _profiles_statement(signed_in: bool) -> Select[Any]:
    ids: BindParameter[list[int]] = bindparam("user_ids", expanding=True)
    return (
        _profile_columns(signed_in).add_columns(user_account.c.id).where(user_account.c.id.in_(ids))
    )


def profile_of(row: Row[Any], *, prefix: str = "") -> Profile:
    return Profile(
        username=row._mapping[f"{prefix}username"],
        bio=row._mapping[f"{prefix}bio"],
        image=row._mapping[f"{prefix}image"],
        following=bool(row._mapping[f"{prefix}following"]),
    )


def _user_of(row: Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        password_hash=row.password_hash,
        bio=row.bio,
        image=row.image,
        role=None if row.role is None else Role(row.role),
        suspended=bool(row.suspended),
    )


class SqlUsers:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, new: NewUser) -> User:
        async with unique_violations_as_domain_errors():
            result = await self._connection.execute(
                insert(user_account).values(
                    username=new.username,
                    username_key=rules.username_key(new.username),
                    email=new.email,
                    password_hash=new.password_hash,
                )
            )
        return User(
            id=inserted_id(result),
            username=new.username,
            email=new.email,
            password_hash=new.password_hash,
        )

    async def get(self, user_id: int) -> User | None:
        return await self._one(user_account.c.id == user_id)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(user_account.c.email == email)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one(user_account.c.username_key == rules.username_key(username))

    async def update(self, user_id: int, changes: UserChanges) -> User:
        values: dict[str, Any] = changes.fields()
        if changes.username is not UNCHANGED:
            values["username_key"] = rules.username_key(changes.username)
        async with unique_violations_as_domain_errors():
            await self._connection.execute(
                update(user_account).where(user_account.c.id == user_id).values(values)
            )
        # Read back under the row lock just taken: the other fields as they are now.
        stored = await self.get(user_id)
        if stored is None:
            raise LookupError(f"no user {user_id}")
        return stored

    async def profile(self, username: str, *, viewer_id: int | None) -> Profile | None:
        parameters = {"username_key": rules.username_key(username), "viewer_id": viewer_id}
        statement = _profile_statement(viewer_id is not None)
        row = (await self._connection.execute(statement, parameters)).first()
        return None if row is None else profile_of(row)

    async def profiles(
        self, user_ids: Sequence[int], *, viewer_id: int | None
    ) -> dict[int, Profile]:
        if not user_ids:
            return {}
        parameters = {"user_ids": list(user_ids), "viewer_id": viewer_id}
        statement = _profiles_statement(viewer_id is not None)
        rows = await self._connection.execute(statement, parameters)
        return {row.id: profile_of(row) for row in rows}

    async def set_role(self, user_id: int, role: Role | None) -> None:
        await self._connection.execute(
            update(user_account)
            .where(user_account.c.id == user_id)
            .values(role=None if role is None else role.value)
        )

    async def set_suspended(self, user_id: int, suspended: bool) -> None:
        await self._connection.execute(
            update(user_account).where(user_account.c.id == user_id).values(suspended=suspended)
        )

    async def _one(self, condition: ColumnElement[bool]) -> User | None:
        row = (await self._connection.execute(select(user_account).where(condition))).first()
        return None if row is None else _user_of(row)
