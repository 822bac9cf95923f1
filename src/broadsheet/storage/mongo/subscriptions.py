"""Tag subscriptions: one document per reader and tag (``tag_subscriptions``, unique on
``user_id, tag``), read back with the authors the reader follows."""

from __future__ import annotations

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from broadsheet.domain.models import Profile, Subscriptions
from broadsheet.storage.mongo.base import MongoRepository
from broadsheet.storage.mongo.documents import Document, Stage

# The followed authors' profiles, in the order of their username keys.
_FOLLOWED_BY_KEY: list[Stage] = [
    {"$lookup": {"from": "users", "localField": "followee_id", "foreignField": "_id",
                 "pipeline": [{"$project": {"username": 1, "bio": 1, "image": 1,
                                            "username_key": 1}}],
                 "as": "_user"}},
    {"$unwind": "$_user"},
    {"$replaceRoot": {"newRoot": "$_user"}},
    {"$sort": {"username_key": 1}},
]  # fmt: skip


class MongoTagSubscriptions(MongoRepository):
    async def add(self, *, user_id: int, tag: str) -> None:
        await self._uow.begin_write()
        pair = {"user_id": user_id, "tag": tag}
        # DuplicateKeyError: the same subscription made concurrently (see MongoFollows.add).
        with suppress(DuplicateKeyError):
            await self._db.tag_subscriptions.update_one(
                pair, {"$setOnInsert": pair}, upsert=True, session=self._session
            )

    async def remove(self, *, user_id: int, tag: str) -> None:
        await self._uow.begin_write()
        await self._db.tag_subscriptions.delete_one(
            {"user_id": user_id, "tag": tag}, session=self._session
        )

    async def of(self, user_id: int) -> Subscriptions:
        followed = await self._db.follows.aggregate(
            [{"$match": {"follower_id": user_id}}, *_FOLLOWED_BY_KEY], session=self._session
        )
        authors = [_followed_profile(doc) async for doc in followed]
        subscribed = self._db.tag_subscriptions.find(
            {"user_id": user_id}, projection={"tag": 1}, sort=[("tag", 1)], session=self._session
        )
        tags = [doc["tag"] async for doc in subscribed]
        return Subscriptions(authors=tuple(authors), tags=tuple(tags))


def _followed_profile(user: Document) -> Profile:
    return Profile(
        username=user["username"], bio=user.get("bio"), image=user.get("image"), following=True
    )
