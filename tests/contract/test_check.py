"""``Storage.check``: counters against the truth and references without a target, found one
line per finding and, with ``repair``, fixed; a consistent store has nothing to report.

The inconsistencies are made with each backend's own tools (foreign keys off, raw
documents), since no use case can make them.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from sqlalchemy import insert, text, update
from sqlalchemy.engine import make_url

from broadsheet.domain.models import Article, ArticleFilter, Comment, Finding, User
from broadsheet.domain.ports import Storage
from broadsheet.storage.memory import MemoryStorage
from broadsheet.storage.mongo import MongoStorage
from broadsheet.storage.sql import SqlStorage, tables
from broadsheet.storage.sql.tables import comment, favorite, follow
from tests import factories

GONE_ARTICLE = 9_000_001
GONE_USER = 9_000_002


async def _dangling(storage: Storage, user: User) -> None:
    """Two comments and a favorite of an article that is gone, a follow of a user who is."""
    now = datetime.now(UTC).replace(microsecond=0)
    comments: list[dict[str, object]] = [
        {"article_id": GONE_ARTICLE, "author_id": user.id, "body": body, "created_at": now,
         "updated_at": now}
        for body in ("one", "two")
    ]  # fmt: skip
    pair: dict[str, object] = {"user_id": user.id, "article_id": GONE_ARTICLE}
    follows = {"follower_id": user.id, "followee_id": GONE_USER}
    if isinstance(storage, MemoryStorage):
        state = storage.committed
        for number, body in enumerate(("one", "two"), start=1):
            state.comments[number] = Comment(
                id=number, article_id=GONE_ARTICLE, author_id=user.id, body=body,
                created_at=now, updated_at=now,
            )  # fmt: skip
        state.favorites[(user.id, GONE_ARTICLE)] = factories.later()
        state.follows.add((user.id, GONE_USER))
    elif isinstance(storage, MongoStorage):
        db = storage.database
        await db.comments.insert_many(
            [{"_id": GONE_ARTICLE + n, **row} for n, row in enumerate(comments)]
        )
        await db.favorites.insert_one({**pair, "article_created_at": now, "favorited_at": now})
        await db.follows.insert_one(follows)
    else:
        assert isinstance(storage, SqlStorage)
        dialect = storage.engine.dialect.name
        if dialect == "sqlite":  # the sqlite3 module leaves foreign keys off
            path = make_url(str(storage.url)).database
            assert path is not None
            stamp = str(now.replace(tzinfo=None))
            with sqlite3.connect(path) as raw:
                for row in comments:
                    raw.execute(
                        "INSERT INTO comment (article_id, author_id, body, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, ?)",
                        (row["article_id"], row["author_id"], row["body"], stamp, stamp),
                    )
                raw.execute(
                    "INSERT INTO favorite VALUES (?, ?, ?, ?)",
                    (user.id, GONE_ARTICLE, stamp, stamp),
                )
                raw.execute("INSERT INTO follow VALUES (?, ?)", (user.id, GONE_USER))
            raw.close()
        else:
            off = {
                "postgresql": "SET session_replication_role = replica",
                "mysql": "SET FOREIGN_KEY_CHECKS = 0",
            }[dialect]
            async with storage.engine.begin() as connection:
                await connection.execute(text(off))
                await connection.execute(insert(comment), comments)
                await connection.execute(
                    insert(favorite).values(
                        {**pair, "article_created_at": now, "favorited_at": now}
                    )
                )
                await connection.execute(insert(follow).values(follows))


def _lines(findings: list[Finding]) -> list[str]:
    return sorted(str(finding) for finding in findings)


async def test_a_consistent_store_has_nothing_to_report(storage: Storage) -> None:
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    article = await factories.article(storage, author=jake, tags=["t"])
    await factories.comment(storage, article=article, author=jane)
    await factories.favorite(storage, user=jane, article=article)
    await factories.follow(storage, follower=jane, followee=jake)

    assert await storage.check(repair=False) == []
    assert await storage.check(repair=True) == []


async def test_dangling_references_are_found_and_repaired(storage: Storage) -> None:
    jake = await factories.user(storage)
    kept = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=jake, article=kept)
    await _dangling(storage, jake)
    expected = [
        f"orphan: 1 favorites of missing article {GONE_ARTICLE}",
        f"orphan: 1 follows of missing user {GONE_USER}",
        f"orphan: 2 comments on missing article {GONE_ARTICLE}",
    ]

    assert _lines(await storage.check(repair=False)) == expected
    assert _lines(await storage.check(repair=False)) == expected  # looking repairs nothing
    assert _lines(await storage.check(repair=True)) == [f"{line} (repaired)" for line in expected]
    assert await storage.check(repair=False) == []
    async with storage.unit_of_work() as uow:  # what was consistent is untouched
        view = await uow.articles.view(kept.slug, viewer_id=jake.id)
    assert view is not None
    assert (view.favorited, view.favorites_count) == (True, 1)


async def _counter(storage: Storage, article: Article) -> int:
    async with storage.unit_of_work() as uow:
        view = await uow.articles.view(article.slug, viewer_id=None)
    assert view is not None
    return view.favorites_count


async def test_a_drifted_counter_is_recounted(storage: Storage) -> None:
    """A counter written around the adapter (memory counts on every read: nothing drifts)."""
    jake = await factories.user(storage)
    jane = await factories.user(storage)
    article = await factories.article(storage, author=jake)
    await factories.favorite(storage, user=jane, article=article)
    if isinstance(storage, MemoryStorage):
        assert await storage.check(repair=True) == []
        assert await _counter(storage, article) == 1
        return
    if isinstance(storage, MongoStorage):
        await storage.database.articles.update_one(
            {"_id": article.id}, {"$set": {"favorites_count": 3}}
        )
    else:  # SQL counts an article's favorites on read; its user counters can drift
        assert isinstance(storage, SqlStorage)
        async with storage.engine.begin() as connection:
            await connection.execute(
                update(tables.user_account)
                .where(tables.user_account.c.id == jane.id)
                .values(favorites_count=3)
            )
        assert _lines(await storage.check(repair=False)) == [
            f"favorites_count: user {jane.id} ({jane.username}) says 3, has 1"
        ]
        assert [f.repaired for f in await storage.check(repair=True)] == [True]
        assert await storage.check(repair=False) == []
        async with storage.unit_of_work() as uow:
            page = await uow.articles.find(
                ArticleFilter(favorited_by=jane.username), viewer_id=None, limit=1, offset=0
            )
        assert page.total == 1
        return

    found = await storage.check(repair=False)

    assert _lines(found) == [
        f"favorites_count: article {article.id} ({article.slug}) says 3, has 1"
    ]
    assert await _counter(storage, article) == 3
    assert [f.repaired for f in await storage.check(repair=True)] == [True]
    assert await storage.check(repair=False) == []
    assert await _counter(storage, article) == 1
