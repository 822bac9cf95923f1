"""Analytics on the document model (storage/mongo/analytics.py): when each favorite was made
(filled in by step ``0009_favorited_at`` for favorites made before it, written by the bulk
loader), each answer one pipeline that starts from its index (``python -m tests.mongo.plans``
prints them), and no article's text sent back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from broadsheet.domain import rules
from broadsheet.domain.models import ArticleRecord, FavoriteRecord, UserRecord, Window
from broadsheet.storage.mongo import MongoStorage, analytics, fulltext
from tests import databases, factories
from tests.conftest import BACKENDS
from tests.mongo import plans

STEP = "0009_favorited_at"
GONE_ARTICLE = 9_000_001


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def mongo_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def store(mongo_url: str) -> AsyncIterator[MongoStorage]:
    storage = MongoStorage(mongo_url)
    await databases.empty(storage)
    try:
        yield storage
    finally:
        await storage.close()


def _hour_from(start: datetime) -> Window:
    return Window(start=start, end=start + timedelta(hours=1))


async def _trending(store: MongoStorage, window: Window) -> list[tuple[str, int]]:
    async with store.unit_of_work() as uow:
        found = await uow.analytics.trending(window, viewer_id=None, limit=10)
    return [(t.article.slug, t.favorites) for t in found]


async def test_the_step_dates_earlier_favorites_by_their_articles_creation(
    store: MongoStorage,
) -> None:
    """As the code before it wrote them: no ``favorited_at``. Each gets its article's
    ``created_at``, so a favorite of an old article made long ago never trends now."""
    db = store.database
    ann, bob = await factories.user(store), await factories.user(store)
    old = await factories.article(store, author=ann, slug="old")
    await factories.favorite(store, user=bob, article=old)
    await db.favorites.update_many({}, {"$unset": {"favorited_at": 1}})
    made_since = factories.later()
    await factories.favorite(store, user=ann, article=old)  # made at made_since + 1s
    await db.favorites.insert_one(  # an orphan: no article, so no copy of its created_at
        {"user_id": ann.id, "article_id": GONE_ARTICLE}, bypass_document_validation=True
    )
    await db.migrations.delete_one({"_id": STEP})

    await store.migrate()
    await db.migrations.delete_one({"_id": STEP})
    await store.migrate()  # again, as after a crash before the step was recorded

    dated = {
        (f["user_id"], f["article_id"]): f.get("favorited_at") async for f in db.favorites.find({})
    }
    assert dated == {
        (bob.id, old.id): old.created_at,
        (ann.id, old.id): made_since + timedelta(seconds=1),
        (ann.id, GONE_ARTICLE): None,
    }
    assert await _trending(store, _hour_from(made_since)) == [("old", 1)]  # ann's only
    before = Window(start=old.created_at, end=made_since)
    assert await _trending(store, before) == [("old", 1)]  # bob's, dated back
    indexes = [index["key"] async for index in await db.favorites.list_indexes()]
    assert {"favorited_at": 1, "article_id": 1, "article_created_at": 1} in indexes


async def test_a_bulk_load_writes_when_each_favorite_was_made(store: MongoStorage) -> None:
    created, favorited = factories.moment(0), factories.moment(3600 * 24)
    ann = UserRecord(
        id=1,
        username="ann",
        email="ann@example.com",
        password_hash="h",
        bio=None,
        image=None,
        articles_count=1,
        favorites_count=1,
    )
    article = ArticleRecord(id=1, slug="loaded", title="Loaded", description="d", body="b",
                            tags=(), author_id=1, created_at=created, updated_at=created,
                            favorites_count=1)  # fmt: skip
    favorite = FavoriteRecord(
        user_id=1, article_id=1, article_created_at=created, favorited_at=favorited
    )
    async with store.bulk_loader() as loader:
        await loader.add_users([ann])
        await loader.add_articles([article])
        await loader.add_favorites([favorite])
        await loader.finish(articles=1)

    assert await _trending(store, _hour_from(favorited)) == [("loaded", 1)]
    assert await _trending(store, _hour_from(created)) == []
    assert await store.check(repair=False) == []


def _keys(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        return set(tree) | {key for value in tree.values() for key in _keys(value)}
    if isinstance(tree, list):
        return {key for value in tree for key in _keys(value)}
    return set()


async def test_no_pipeline_sends_back_an_articles_text(store: MongoStorage) -> None:
    ann, bob = await factories.user(store), await factories.user(store)
    article = await factories.article(store, author=ann, tags=["t"], body="A big body")
    await factories.favorite(store, user=bob, article=article)
    await factories.follow(store, follower=bob, followee=ann)
    window = Window(start=article.created_at, end=factories.later())
    key = rules.username_key(ann.username)
    pipelines = [
        ("articles", analytics.tag_trends_pipeline(window, limit=10)),
        ("favorites", analytics.trending_pipeline(window, viewer_id=bob.id, limit=10)),
        ("users", analytics.author_stats_pipeline(key, viewer_id=bob.id, top=5)),
    ]
    for collection, pipeline in pipelines:
        found = await (await store.database[collection].aggregate(pipeline)).to_list()

        assert found, collection
        assert not {"body", fulltext.TERMS, fulltext.TEXT} & _keys(found), (collection, found)


@pytest.fixture
async def collected(mongo_url: str) -> list[plans.ListPlan]:
    await databases.empty_at(mongo_url)
    async with plans.seeded(mongo_url) as (http, commands, db, reader):
        return await plans.collect(http, commands, db, reader, plans.ANALYTICS)


async def test_each_answer_is_one_pipeline_from_its_index(
    collected: list[plans.ListPlan],
) -> None:
    for plan in collected:
        (command,) = plan.commands  # besides the token check and the viewer's lookup
        assert "aggregate" in command, plan.what
        assert plan.expected_index in plans.indexes_used(plan.explained[0]), (plan.what, plan)


async def test_trending_ranks_from_the_favorites_before_it_reads_an_article(
    collected: list[plans.ListPlan],
) -> None:
    (trending,) = [plan for plan in collected if plan.what == "trending"]
    stages = [next(iter(stage)) for stage in trending.commands[0]["pipeline"]]
    assert stages[:4] == ["$match", "$group", "$sort", "$limit"]
    assert stages[4] == "$lookup"
