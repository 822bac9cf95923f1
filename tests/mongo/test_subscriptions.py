"""Tag subscriptions, roles and the audit log on the document model: what the contract
tests cannot see. The wider feed is two commands (the viewer's authors and tags, then one
``$match`` with ``$or``) whose clauses each start from their own index; subscriptions made
at once are one document; the validators guard the new fields and collections."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError, WriteError

import broadsheet.storage.mongo
from broadsheet.domain.models import Role, User
from broadsheet.services import subscriptions
from broadsheet.storage.mongo import MongoStorage, fulltext
from tests import databases, factories
from tests.conftest import BACKENDS
from tests.mongo import plans

BY_AUTHOR = "author_id_1_created_at_-1__id_-1"
BY_TAG = "tags_1_created_at_-1__id_-1"
DOCUMENT_VALIDATION_FAILURE = 121


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def mongo_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def commands(monkeypatch: pytest.MonkeyPatch) -> plans.Commands:
    """A listener on the client of every storage the test opens."""
    listener = plans.Commands()
    monkeypatch.setattr(
        broadsheet.storage.mongo,
        "AsyncMongoClient",
        functools.partial(AsyncMongoClient, event_listeners=[listener]),
    )
    return listener


@pytest.fixture
async def store(mongo_url: str, commands: plans.Commands) -> AsyncIterator[MongoStorage]:
    storage = MongoStorage(mongo_url)
    await databases.empty(storage)
    try:
        yield storage
    finally:
        await storage.close()


async def _subscribe(store: MongoStorage, user: User, *tags: str) -> None:
    async with store.unit_of_work() as uow:
        for tag in tags:
            await uow.subscriptions.add(user_id=user.id, tag=tag)
        await uow.commit()


async def _wider_feed_commands(
    store: MongoStorage, commands: plans.Commands, reader: User
) -> tuple[list[str], list[dict[str, Any]]]:
    """The wider feed's slugs, and the commands it sent."""
    with commands.recording() as seen:
        async with store.unit_of_work() as uow:
            page = await uow.articles.feed_with_tags(viewer_id=reader.id, limit=20, offset=0)
    return [item.slug for item in page.items], seen


def _stages(command: dict[str, Any]) -> list[str]:
    return [next(iter(stage)) for stage in command["pipeline"]]


async def _explained_match(store: MongoStorage, match: dict[str, Any]) -> set[str]:
    command = {"aggregate": "articles", "pipeline": [{"$match": match}], "cursor": {}}
    return plans.indexes_used(await plans.explain(store.database, command))


async def test_the_wider_feed_is_one_match_whose_clauses_each_have_their_index(
    store: MongoStorage, commands: plans.Commands
) -> None:
    """MongoDB plans a ``$or`` clause by clause (one clause without an index makes it a
    collection scan) and merges the clauses' index scans in order. SecantusDB plans any
    ``$or`` as a collection scan, so each clause is explained on its own here."""
    reader, ann, bob = [await factories.user(store) for _ in range(3)]
    await factories.follow(store, follower=reader, followee=ann)
    await _subscribe(store, reader, "dragons", "sql")
    await factories.article(store, author=ann, slug="by-ann", body="A big body")
    await factories.article(store, author=bob, slug="tagged", tags=["dragons", "sql"])
    await factories.article(store, author=bob, slug="neither", tags=["cats"])

    slugs, seen = await _wider_feed_commands(store, commands, reader)

    assert slugs == ["tagged", "by-ann"]
    sources, page = [command for command in seen if "aggregate" in command]
    assert sources["aggregate"] == "follows"  # with the tags, in a $unionWith
    assert _stages(sources) == ["$match", "$project", "$unionWith"]
    assert page["aggregate"] == "articles"
    stages = _stages(page)
    assert stages[:4] == ["$match", "$sort", "$skip", "$limit"]  # paged before any join
    assert stages.index("$limit") < stages.index("$lookup")
    assert "hint" not in page  # no hint names two indexes: the planner picks
    clauses = page["pipeline"][0]["$match"]["$or"]
    assert clauses == [{"author_id": {"$in": [ann.id]}}, {"tags": {"$in": ["dragons", "sql"]}}]
    assert BY_AUTHOR in await _explained_match(store, clauses[0])
    assert BY_TAG in await _explained_match(store, clauses[1])
    # The page sent back holds no article's text.
    reply = await (await store.database.articles.aggregate(page["pipeline"])).to_list()
    assert len(reply) == 3  # the two articles and the total
    assert not {"body", fulltext.TERMS, fulltext.TEXT} & {key for doc in reply for key in doc}


@pytest.mark.parametrize("source", ["authors", "tags"])
async def test_a_wider_feed_from_one_source_names_its_index(
    store: MongoStorage, commands: plans.Commands, source: str
) -> None:
    reader, ann = await factories.user(store), await factories.user(store)
    if source == "authors":
        await factories.follow(store, follower=reader, followee=ann)
    else:
        await _subscribe(store, reader, "dragons")
    await factories.article(store, author=ann, slug="found", tags=["dragons"])

    slugs, seen = await _wider_feed_commands(store, commands, reader)

    assert slugs == ["found"]
    page = next(command for command in seen if command.get("aggregate") == "articles")
    expected = BY_AUTHOR if source == "authors" else BY_TAG
    assert plans.indexes_used(await plans.explain(store.database, page)) >= {expected}


async def test_a_reader_with_neither_authors_nor_tags_costs_one_command(
    store: MongoStorage, commands: plans.Commands
) -> None:
    reader, ann = await factories.user(store), await factories.user(store)
    await factories.article(store, author=ann, tags=["dragons"])

    slugs, seen = await _wider_feed_commands(store, commands, reader)

    assert slugs == []
    assert [command.get("aggregate") for command in seen if "aggregate" in command] == ["follows"]


async def test_subscriptions_made_at_once_are_one_document(store: MongoStorage) -> None:
    reader = await factories.user(store)

    await asyncio.gather(
        *(
            subscriptions.set_subscribed(
                store.unit_of_work(), viewer_id=reader.id, tag="dragons", subscribed=True
            )
            for _ in range(8)
        )
    )

    assert await store.database.tag_subscriptions.count_documents({}) == 1
    with pytest.raises(DuplicateKeyError):  # the unique index decides
        await store.database.tag_subscriptions.insert_one({"user_id": reader.id, "tag": "dragons"})


async def test_no_role_and_no_suspension_are_absent_fields(store: MongoStorage) -> None:
    """As every user written before them has it: a reader, not suspended."""
    ann = await factories.user(store)
    users = store.database.users
    assert not {"role", "suspended"} & set(await users.find_one({"_id": ann.id}) or {})
    async with store.unit_of_work() as uow:
        await uow.users.set_role(ann.id, Role.ADMIN)
        await uow.users.set_suspended(ann.id, True)
        await uow.commit()
    staff = {"_id": 0, "role": 1, "suspended": 1}
    assert await users.find_one({"_id": ann.id}, staff) == {"role": "admin", "suspended": True}
    async with store.unit_of_work() as uow:
        await uow.users.set_role(ann.id, None)
        await uow.users.set_suspended(ann.id, False)
        await uow.commit()
    async with store.unit_of_work() as uow:
        reader = await uow.users.get(ann.id)

    assert not {"role", "suspended"} & set(await users.find_one({"_id": ann.id}) or {})
    assert reader == ann


@pytest.mark.parametrize(
    ("collection", "document"),
    [
        ("users", {"role": "owner"}),
        ("users", {"suspended": 1}),
        ("tag_subscriptions", {"user_id": 1}),
        ("tag_subscriptions", {"user_id": "1", "tag": "t"}),
        ("audit_entries", {"_id": 1, "target": "x", "at": factories.later()}),
        ("audit_entries", {"_id": 1, "action": "article.delete", "target": "x", "at": "now"}),
    ],
    ids=["unknown-role", "int-suspended", "no-tag", "string-user", "no-action", "string-at"],
)
async def test_the_validators_reject_malformed_documents(
    store: MongoStorage, collection: str, document: dict[str, Any]
) -> None:
    if collection == "users":
        user = {"_id": 1, "username": "a", "username_key": "a", "email": "a@x.io",
                "password_hash": "h", "articles_count": 0, "favorites_count": 0}  # fmt: skip
        document = {**user, **document}

    with pytest.raises(WriteError) as rejected:
        await store.database[collection].insert_one(document)

    assert rejected.value.code == DOCUMENT_VALIDATION_FAILURE
