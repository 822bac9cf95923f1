"""The search fields of the document model (storage/mongo/fulltext.py): filled in by step
``0008_search_terms`` for articles written before it, ranked by the pipeline itself, read
through their multikey index, and never sent back by any read."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

import broadsheet.storage.mongo
from broadsheet.domain import search
from broadsheet.domain.models import ArticleChanges, ArticleFilter, ArticleRecord, UserRecord
from broadsheet.storage.mongo import MongoStorage, fulltext, lists
from tests import databases, factories
from tests.conftest import BACKENDS
from tests.mongo import plans

STEP = "0008_search_terms"
EPOCH = datetime(2025, 6, 1, tzinfo=UTC)


class Replies(monitoring.CommandListener):
    """Every reply the server sent, as received."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.seen.append(dict(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture(params=[b for b in BACKENDS if b.startswith("mongodb")])
def mongo_url(request: pytest.FixtureRequest, database_urls: dict[str, str]) -> str:
    return database_urls[str(request.param)]  # created here, outside any running event loop


@pytest.fixture
async def replies(mongo_url: str) -> AsyncIterator[tuple[MongoStorage, Replies]]:
    listener = Replies()
    with pytest.MonkeyPatch.context() as patch:
        # The storage builds its client itself, so the listener goes in where it is built.
        patch.setattr(
            broadsheet.storage.mongo,
            "AsyncMongoClient",
            functools.partial(AsyncMongoClient, event_listeners=[listener]),
        )
        storage = MongoStorage(mongo_url)
    await databases.empty(storage)
    try:
        yield storage, listener
    finally:
        await storage.close()


@pytest.fixture
async def store(replies: tuple[MongoStorage, Replies]) -> MongoStorage:
    return replies[0]


async def _slugs(store: MongoStorage, q: str) -> list[str]:
    async with store.unit_of_work() as uow:
        page = await uow.articles.search(search.parse(q), viewer_id=None, limit=20, offset=0)
    return [item.slug for item in page.items]


def _keys(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        return set(tree) | {key for value in tree.values() for key in _keys(value)}
    if isinstance(tree, list):
        return {key for value in tree for key in _keys(value)}
    return set()


async def test_the_step_fills_in_the_search_fields_of_articles_written_before_it(
    store: MongoStorage,
) -> None:
    db = store.database
    author = await factories.user(store)
    written = [("Old dragons", "d", "A barn."), ("Older news", "Training", "Nothing here.")]
    await db.articles.insert_many(
        [
            {"_id": n, "slug": f"article-{n}", "title": title, "description": description,
             "body": body, "tags": [], "author_id": author.id,
             "created_at": EPOCH + timedelta(hours=n), "updated_at": EPOCH + timedelta(hours=n),
             "favorites_count": 0}
            for n, (title, description, body) in enumerate(written, start=1)
        ]
    )  # fmt: skip
    await db.migrations.delete_one({"_id": STEP})
    assert await _slugs(store, "dragon") == []  # written without them: found by nothing yet

    await store.migrate()
    await store.migrate()  # recorded: a no-op

    search_fields = {fulltext.TERMS: 1, fulltext.TEXT: 1}
    stored = {doc.pop("_id"): doc async for doc in db.articles.find({}, projection=search_fields)}
    assert stored == {
        n: fulltext.fields(title, description, body)
        for n, (title, description, body) in enumerate(written, start=1)
    }
    assert await _slugs(store, "dragon") == ["article-1"]
    assert await _slugs(store, "train*") == ["article-2"]


async def test_the_step_may_run_again(store: MongoStorage) -> None:
    author = await factories.user(store)
    await factories.article(store, author=author, title="Dragons", body="Training")
    await store.database.migrations.delete_one({"_id": STEP})

    await store.migrate()

    assert await _slugs(store, "dragon train") == ["dragons"]
    assert await store.check(repair=False) == []


async def test_a_bulk_load_writes_the_search_fields(store: MongoStorage) -> None:
    ann = UserRecord(
        id=1,
        username="ann",
        email="ann@example.com",
        password_hash="h",
        bio=None,
        image=None,
        articles_count=1,
        favorites_count=0,
    )
    article = ArticleRecord(id=1, slug="loaded", title="Loaded dragons", description="d",
                            body="A very large barn.", tags=(), author_id=1,
                            created_at=EPOCH, updated_at=EPOCH, favorites_count=0)  # fmt: skip
    async with store.bulk_loader() as loader:
        await loader.add_users([ann])
        await loader.add_articles([article])
        await loader.finish(articles=1)

    assert await _slugs(store, '"large barn" dragon') == ["loaded"]
    assert await store.check(repair=False) == []


async def test_more_hits_outrank_a_newer_article(store: MongoStorage) -> None:
    """Ranked as the in-memory store ranks: the terms hit, with repeats; then newest."""
    author = await factories.user(store)
    await factories.article(store, author=author, title="Data", body="Data, data, data.")
    await factories.article(store, author=author, title="Barns", body="A barn, barns: a barn.")
    await factories.article(store, author=author, title="Sheds", body="Next to the barn.")
    await factories.article(store, author=author, title="Dates", body="Data on a barn.")

    assert await _slugs(store, "barn") == ["barns", "dates", "sheds"]
    # A prefix hits each term it starts: "data" 4 times, "dates" twice ("date", "data").
    assert await _slugs(store, "dat*") == ["data", "dates"]
    assert await _slugs(store, "barn dat*") == ["dates"]


async def test_a_search_starts_from_the_terms_index(store: MongoStorage) -> None:
    author = await factories.user(store)
    await factories.article(store, author=author, title="Databases", body="A large barn")
    for q in ("barn", '"large barn"', "dat*", "barn dat*"):
        query = lists.searched(search.parse(q), limit=20, offset=0)
        command = {"aggregate": "articles", "pipeline": query.stages, "hint": query.index}

        explained = await plans.explain(store.database, command)

        assert "search_terms_1" in plans.indexes_used(explained), (q, explained)


async def test_no_read_sends_back_the_search_fields(
    replies: tuple[MongoStorage, Replies],
) -> None:
    store, listener = replies
    author = await factories.user(store)
    reader = await factories.user(store)
    article = await factories.article(store, author=author, tags=["t"], body="Big body")
    async with store.unit_of_work() as uow:
        await uow.favorites.add(user_id=reader.id, article_id=article.id, at=factories.later())
        await uow.follows.add(follower_id=reader.id, followee_id=author.id)
        await uow.commit()
    listener.seen.clear()

    async with store.unit_of_work() as uow:
        found = await uow.articles.get_by_slug(article.slug)
        assert found is not None
        await uow.articles.view(article.slug, viewer_id=reader.id)
        for filters in (
            ArticleFilter(),
            ArticleFilter(tag="t"),
            ArticleFilter(author=author.username),
            ArticleFilter(favorited_by=reader.username),
            ArticleFilter(tag="t", author=author.username),
            ArticleFilter(author=author.username, favorited_by=reader.username),
        ):
            page = await uow.articles.find(filters, viewer_id=reader.id, limit=5, offset=0)
            assert page.total == 1, filters
        assert (await uow.articles.feed(viewer_id=reader.id, limit=5, offset=0)).total == 1
        page = await uow.articles.search(
            search.parse("big"), viewer_id=reader.id, limit=5, offset=0
        )
        assert page.total == 1
        await uow.articles.update(
            found, ArticleChanges(body="Bigger"), updated_at=factories.later()
        )
        await uow.commit()

    assert listener.seen
    assert not {fulltext.TERMS, fulltext.TEXT} & _keys(listener.seen)
