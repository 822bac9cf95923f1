"""The counters behind every list's total (step ``0007_flat_lists``): computed by the
migration from data the previous schema wrote, found and recounted by ``db check --repair``
when they drift, and left repairable by a failure between a write and its counters on a
server without transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broadsheet.domain.models import ArticleFilter, Finding, NewArticle, User
from broadsheet.storage.mongo import MongoStorage, counters
from tests import databases, factories
from tests.conftest import BACKENDS

STEP = "0007_flat_lists"
GONE_ARTICLE = 9_000_001
EPOCH = datetime(2025, 6, 1, tzinfo=UTC)


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


def _lines(findings: list[Finding]) -> list[str]:
    return sorted(str(finding) for finding in findings)


async def _totals(store: MongoStorage, *filters: ArticleFilter) -> list[int]:
    async with store.unit_of_work() as uow:
        return [
            (await uow.articles.find(f, viewer_id=None, limit=1, offset=0)).total for f in filters
        ]


async def _stored(store: MongoStorage, collection: str) -> dict[Any, dict[str, Any]]:
    return {doc.pop("_id"): doc async for doc in store.database[collection].find({})}


async def test_the_step_computes_the_counters_from_what_the_previous_schema_wrote(
    store: MongoStorage,
) -> None:
    """Users without counters, favorites without dates, no ``tags`` or ``totals``: as the
    code before this step wrote them (its validators asked for none of it)."""
    db = store.database
    await db.users.insert_many(
        [
            {"_id": n, "username": name, "username_key": name, "email": f"{name}@example.com",
             "password_hash": "h", "bio": None, "image": None}
            for n, name in enumerate(("ann", "bob", "cy"), start=1)
        ],
        bypass_document_validation=True,
    )  # fmt: skip
    ann, bob, cy = 1, 2, 3
    written = [(ann, ["a", "b"], 2), (ann, ["b"], 0), (bob, ["c"], 1)]  # author, tags, fans
    await db.articles.insert_many(
        [
            {"_id": n, "slug": f"article-{n}", "title": "t", "description": "d", "body": "b",
             "tags": tags, "author_id": author, "created_at": EPOCH + timedelta(hours=n),
             "updated_at": EPOCH + timedelta(hours=n), "favorites_count": fans}
            for n, (author, tags, fans) in enumerate(written, start=1)
        ]
    )  # fmt: skip
    favorites = [(cy, 1), (cy, 3), (bob, 1), (ann, GONE_ARTICLE)]  # the last one dangles
    await db.favorites.insert_many(
        [{"user_id": user, "article_id": article} for user, article in favorites],
        bypass_document_validation=True,
    )
    await db.migrations.delete_one({"_id": STEP})

    await store.migrate()

    users = await _stored(store, "users")
    assert {n: (u["articles_count"], u["favorites_count"]) for n, u in users.items()} == {
        ann: (2, 0),  # the favorite of a missing article is not counted
        bob: (1, 1),
        cy: (0, 2),
    }
    dates = {
        (f["user_id"], f["article_id"]): f.get("article_created_at")
        for f in (await _stored(store, "favorites")).values()
    }
    assert dates == {
        (cy, 1): EPOCH + timedelta(hours=1),
        (cy, 3): EPOCH + timedelta(hours=3),
        (bob, 1): EPOCH + timedelta(hours=1),
        (ann, GONE_ARTICLE): None,
    }
    assert await _stored(store, "tags") == {
        "a": {"articles_count": 1},
        "b": {"articles_count": 2},
        "c": {"articles_count": 1},
    }
    assert await _stored(store, "totals") == {"articles": {"count": 3}}
    assert await _totals(
        store,
        ArticleFilter(),
        ArticleFilter(tag="b"),
        ArticleFilter(author="ann"),
        ArticleFilter(favorited_by="cy"),
    ) == [3, 2, 2, 2]
    assert _lines(await store.check(repair=False)) == [
        f"orphan: 1 favorites of missing article {GONE_ARTICLE}"
    ]

    # Again, after a tag lost its last article and a crash before the step was recorded:
    # every value is set, not moved, so the step gives the same counters.
    await db.articles.update_one({"_id": 3}, {"$set": {"tags": []}})
    await db.migrations.delete_one({"_id": STEP})
    await store.migrate()

    assert (await _stored(store, "tags"))["c"] == {"articles_count": 0}
    assert await _stored(store, "totals") == {"articles": {"count": 3}}
    users_again = await _stored(store, "users")
    assert users_again == users
    assert STEP in {doc["_id"] async for doc in db.migrations.find({})}


async def test_the_step_adds_the_indexes_the_lists_are_read_through(store: MongoStorage) -> None:
    db = store.database

    async def keys(collection: str) -> set[tuple[tuple[str, int], ...]]:
        return {
            tuple((field, int(way)) for field, way in index["key"].items())
            async for index in await db[collection].list_indexes()
        }

    assert {
        (("user_id", 1), ("article_created_at", -1), ("article_id", -1)),
    } <= await keys("favorites")
    assert {(("articles_count", -1), ("_id", 1))} <= await keys("tags")
    assert {
        (("created_at", -1), ("_id", -1)),
        (("author_id", 1), ("created_at", -1), ("_id", -1)),
        (("tags", 1), ("created_at", -1), ("_id", -1)),
    } <= await keys("articles")


async def _world(store: MongoStorage) -> tuple[User, User, User]:
    """ann wrote two articles (tags a+b, b), bob one (c); cy favorited ann's first and bob's."""
    ann = await factories.user(store, username="ann")
    bob = await factories.user(store, username="bob")
    cy = await factories.user(store, username="cy")
    first = await factories.article(store, author=ann, tags=["a", "b"])
    await factories.article(store, author=ann, tags=["b"])
    third = await factories.article(store, author=bob, tags=["c"])
    await factories.favorite(store, user=cy, article=first)
    await factories.favorite(store, user=cy, article=third)
    return ann, bob, cy


async def test_every_drifted_counter_is_found_then_recounted(store: MongoStorage) -> None:
    ann, _, cy = await _world(store)
    assert await store.check(repair=False) == []
    db = store.database
    await db.users.update_one({"_id": ann.id}, {"$set": {"articles_count": 5}})
    await db.users.update_one({"_id": cy.id}, {"$inc": {"favorites_count": -2}})
    await db.tags.update_one({"_id": "b"}, {"$set": {"articles_count": 7}})
    await db.tags.delete_one({"_id": "c"})  # its document lost: counts as nothing
    await db.tags.insert_one({"_id": "ghost", "articles_count": 2})
    await db.totals.update_one({"_id": "articles"}, {"$set": {"count": 9}})
    expected = [  # worded as the SQL check words them
        f"articles_count: user {ann.id} (ann) says 5, has 2",
        "articles_count: tag b says 7, has 2",
        "articles_count: tag c has no counter",
        "articles_count: tag ghost says 2, has 0",
        f"favorites_count: user {cy.id} (cy) says 0, has 2",
        "articles_total: site says 9, has 3",
    ]

    assert _lines(await store.check(repair=False)) == sorted(expected)
    assert await _totals(store, ArticleFilter(), ArticleFilter(author="ann")) == [9, 5]
    assert _lines(await store.check(repair=True)) == [f"{x} (repaired)" for x in sorted(expected)]
    assert await store.check(repair=False) == []
    assert await _totals(
        store,
        ArticleFilter(),
        ArticleFilter(author="ann"),
        ArticleFilter(favorited_by="cy"),
        ArticleFilter(tag="b"),
        ArticleFilter(tag="c"),
    ) == [3, 2, 2, 2, 1]
    async with store.unit_of_work() as uow:
        assert await uow.tags.popular() == ["b", "a", "c"]  # ghost kept, at 0, and not listed
    assert (await _stored(store, "tags"))["ghost"] == {"articles_count": 0}


async def test_a_wrong_or_missing_favorite_date_is_found_then_copied_again(
    store: MongoStorage,
) -> None:
    await _world(store)
    db = store.database
    favorites = {f["article_id"]: f async for f in db.favorites.find({}, sort=[("article_id", 1)])}
    (first_id, first), (third_id, third) = favorites.items()
    await db.favorites.update_one({"_id": first["_id"]}, {"$set": {"article_created_at": EPOCH}})
    # Unset past the validator, as a write that bypassed it would leave it.
    await db.favorites.update_one(
        {"_id": third["_id"]},
        {"$unset": {"article_created_at": 1}},
        bypass_document_validation=True,
    )
    expected = ["sort key: 2 favorites.article_created_at differ from their article's created_at"]

    assert _lines(await store.check(repair=False)) == expected
    assert _lines(await store.check(repair=True)) == [f"{line} (repaired)" for line in expected]
    assert await store.check(repair=False) == []
    repaired = {f["article_id"]: f["article_created_at"] async for f in db.favorites.find({})}
    assert repaired == {
        first_id: first["article_created_at"],
        third_id: third["article_created_at"],
    }


@pytest.mark.parametrize("failing", ["users", "tags", "totals"])
async def test_without_transactions_a_failure_after_the_write_leaves_counters_repairable(
    mongo_url: str, failing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented order without transactions: the article first, then its counters, one
    collection at a time. If the process stops after the article (here: a counter update
    fails), the article stands and the counters not moved yet are behind it; ``db check
    --repair`` recounts them."""
    separator = "&" if "?" in mongo_url else "?"
    store = MongoStorage(f"{mongo_url}{separator}broadsheet_transactions=off")
    await databases.empty(store)
    try:
        ann = await factories.user(store, username="ann")
        real_apply_to = counters.apply_to

        async def stop_at(db: Any, collection: str, changes: Any, **kwargs: Any) -> None:
            if collection == failing:
                raise RuntimeError(f"stopped before moving {collection}")
            await real_apply_to(db, collection, changes, **kwargs)

        monkeypatch.setattr(counters, "apply_to", stop_at)
        with pytest.raises(RuntimeError):
            await factories.article(store, author=ann, tags=["t"])
        monkeypatch.undo()

        assert await store.database.articles.count_documents({}) == 1  # the article stands
        found = _lines(await store.check(repair=False))
        assert found, "a counter was left behind"
        # behind: at 0 where the counter exists, missing (0 too) where the move would make it
        assert all(line.endswith(("says 0, has 1", "has no counter")) for line in found), found
        assert [f.repaired for f in await store.check(repair=True)] == [True] * len(found)
        assert await store.check(repair=False) == []
        assert await _totals(
            store, ArticleFilter(), ArticleFilter(tag="t"), ArticleFilter(author="ann")
        ) == [1, 1, 1]
    finally:
        await store.close()


async def test_a_unit_of_work_reads_the_totals_its_own_writes_make(store: MongoStorage) -> None:
    """In a transaction the counters move just before the commit; until then the lists it
    reads add the moves it has made (without one they have moved already)."""
    ann = await factories.user(store, username="ann")
    kept = await factories.article(store, author=ann, tags=["t"])
    filters = [
        ArticleFilter(),
        ArticleFilter(tag="t"),
        ArticleFilter(tag="new"),
        ArticleFilter(author="ann"),
        ArticleFilter(favorited_by="ann"),
    ]

    async with store.unit_of_work() as uow:
        await uow.articles.add(
            NewArticle(slug="fresh", title="Fresh", description="d", body="b",
                       tags=("new", "t"), author_id=ann.id, created_at=factories.later())
        )  # fmt: skip
        await uow.favorites.add(user_id=ann.id, article_id=kept.id, at=factories.later())
        inside = [
            (await uow.articles.find(f, viewer_id=None, limit=1, offset=0)).total for f in filters
        ]
        assert await uow.tags.popular() == ["t", "new"]
        await uow.commit()

    assert inside == [2, 2, 1, 2, 1]
    assert await _totals(store, *filters) == inside
    assert await store.check(repair=False) == []
