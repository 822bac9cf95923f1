from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument

from broadsheet.domain import rules
from broadsheet.domain.models import UNCHANGED, NewUser, Profile, Role, User, UserChanges
from broadsheet.storage.mongo.base import MongoRepository, unique_violations_as_domain_errors
from broadsheet.storage.mongo.documents import Stage, profile_from, user_from, with_author


class MongoUsers(MongoRepository):
    async def add(self, new: NewUser) -> User:
        await self._uow.begin_write()
        user_id = await self._next_id("users")
        await self._uow.begin_write(user_id=user_id)
        document = {
            "_id": user_id,
            "username": new.username,
            "username_key": rules.username_key(new.username),
            "email": new.email,
            "password_hash": new.password_hash,
            "bio": None,
            "image": None,
            # Counters of the lists filtered by this user (see counters.py).
            "articles_count": 0,
            "favorites_count": 0,
        }
        async with unique_violations_as_domain_errors():
            await self._db.users.insert_one(document, session=self._session)
        return user_from(document)

    async def get(self, user_id: int) -> User | None:
        return await self._one({"_id": user_id})

    async def get_by_email(self, email: str) -> User | None:
        return await self._one({"email": email})

    async def get_by_username(self, username: str) -> User | None:
        return await self._one({"username_key": rules.username_key(username)})

    async def update(self, user_id: int, changes: UserChanges) -> User:
        await self._uow.begin_write(user_id=user_id)
        fields: dict[str, Any] = changes.fields()
        if changes.username is not UNCHANGED:
            fields["username_key"] = rules.username_key(changes.username)
        async with unique_violations_as_domain_errors():
            stored = await self._db.users.find_one_and_update(
                {"_id": user_id},
                {"$set": fields},
                return_document=ReturnDocument.AFTER,
                session=self._session,
            )
        if stored is None:
            raise LookupError(f"no user {user_id}")
        return user_from(stored)

    async def profile(self, username: str, *, viewer_id: int | None) -> Profile | None:
        pipeline: list[Stage] = [
            {"$match": {"username_key": rules.username_key(username)}},
            {"$limit": 1},
            {"$set": {"author_id": "$_id"}},
            *with_author(viewer_id),
        ]
        cursor = await self._db.users.aggregate(pipeline, session=self._session)
        found = await cursor.to_list(length=1)
        return profile_from(found[0]["author"]) if found else None

    async def profiles(
        self, user_ids: Sequence[int], *, viewer_id: int | None
    ) -> dict[int, Profile]:
        pipeline: list[Stage] = [
            {"$match": {"_id": {"$in": list(user_ids)}}},
            {"$set": {"author_id": "$_id"}},
            *with_author(viewer_id),
        ]
        cursor = await self._db.users.aggregate(pipeline, session=self._session)
        return {found["_id"]: profile_from(found["author"]) async for found in cursor}

    async def set_role(self, user_id: int, role: Role | None) -> None:
        await self._set_or_unset(user_id, "role", None if role is None else role.value)

    async def set_suspended(self, user_id: int, suspended: bool) -> None:
        await self._set_or_unset(user_id, "suspended", True if suspended else None)

    async def _set_or_unset(self, user_id: int, field: str, value: object) -> None:
        """``None`` removes the field: absent is what a user who never had it has (see
        ``documents.user_from``), so there is one way to store "none"."""
        await self._uow.begin_write(user_id=user_id)
        change = {"$unset": {field: ""}} if value is None else {"$set": {field: value}}
        await self._db.users.update_one({"_id": user_id}, change, session=self._session)

    async def _one(self, query: dict[str, object]) -> User | None:
        document = await self._db.users.find_one(query, session=self._session)
        return None if document is None else user_from(document)
