"""Analytics in SQL: each answer is one aggregate statement over an index that matches it.

- Tag trends group one range of ``ix_article_tag_created_at_tag`` (the current window and
  the one before) by tag, counting each window with a conditional aggregate.
- Trending articles group one range of ``ix_favorite_favorited_at_article_id_…`` by article,
  and only the top ``limit`` are joined to their articles and authors.
- An author's figures are scalar subqueries of one statement (counters where kept, index
  counts otherwise); their top articles are a second statement.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from broadsheet.domain import rules
from broadsheet.domain.models import AuthorStats, TagTrend, TrendingArticle, Window
from broadsheet.storage.sql.articles import summaries, summary_columns, with_author
from broadsheet.storage.sql.tables import article, article_tag, favorite, follow, user_account
from broadsheet.storage.sql.types import UtcDateTime
from broadsheet.storage.sql.users import following, profile_of

_START = bindparam("window_start", type_=UtcDateTime)
_END = bindparam("window_end", type_=UtcDateTime)
_PREVIOUS_START = bindparam("previous_start", type_=UtcDateTime)
_LIMIT = bindparam("top_limit", type_=Integer)
_AUTHOR_KEY: BindParameter[str] = bindparam("author_key")


def _window(window: Window) -> dict[str, Any]:
    return {
        "window_start": window.start,
        "window_end": window.end,
        "previous_start": window.previous_start,
    }


def _count_when(condition: Any) -> Any:
    return func.count(case((condition, 1)))


_IN_WINDOW = _count_when(article_tag.c.created_at >= _START)
_TAG_TRENDS = (
    select(
        article_tag.c.tag,
        _IN_WINDOW.label("articles"),
        _count_when(article_tag.c.created_at < _START).label("previous"),
    )
    .where(article_tag.c.created_at >= _PREVIOUS_START, article_tag.c.created_at < _END)
    .group_by(article_tag.c.tag)
    .having(_IN_WINDOW > 0)
    .order_by(_IN_WINDOW.desc(), article_tag.c.tag)
    .limit(_LIMIT)
)


@functools.cache
def _trending_statement(signed_in: bool) -> Select[Any]:
    received = func.count().label("received")
    top = (
        select(favorite.c.article_id.label("id"), favorite.c.article_created_at, received)
        .where(favorite.c.favorited_at >= _START, favorite.c.favorited_at < _END)
        .group_by(favorite.c.article_id, favorite.c.article_created_at)
        .order_by(
            received.desc(), favorite.c.article_created_at.desc(), favorite.c.article_id.desc()
        )
        .limit(_LIMIT)
        .subquery("top")
    )
    return (
        select(*summary_columns(signed_in), top.c.received)
        .select_from(with_author(top.join(article, article.c.id == top.c.id)))
        .order_by(top.c.received.desc(), top.c.article_created_at.desc(), top.c.id.desc())
    )


def _count(*conditions: Any) -> Any:
    return select(func.count()).where(*conditions).scalar_subquery()


@functools.cache
def _author_statement(signed_in: bool) -> Select[Any]:
    author_id = user_account.c.id
    received = (
        select(func.count())
        .select_from(favorite.join(article, article.c.id == favorite.c.article_id))
        .where(article.c.author_id == author_id)
        .scalar_subquery()
    )
    return select(
        author_id,
        user_account.c.username,
        user_account.c.bio,
        user_account.c.image,
        following(signed_in, author_id).label("following"),
        user_account.c.articles_count,
        received.label("favorites_received"),
        _count(follow.c.followee_id == author_id).label("followers"),
        _count(follow.c.follower_id == author_id).label("following_count"),
    ).where(user_account.c.username_key == _AUTHOR_KEY)


@functools.cache
def _top_articles_statement(signed_in: bool) -> Select[Any]:
    columns = summary_columns(signed_in)
    favorites_count = next(c for c in columns if c.name == "favorites_count")
    return (
        select(*columns)
        .select_from(with_author(article))
        .where(article.c.author_id == bindparam("author_id"))
        .order_by(favorites_count.desc(), article.c.created_at.desc(), article.c.id.desc())
        .limit(_LIMIT)
    )


class SqlAnalytics:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def tag_trends(self, window: Window, *, limit: int) -> list[TagTrend]:
        rows = await self._connection.execute(_TAG_TRENDS, {**_window(window), "top_limit": limit})
        return [
            TagTrend(tag=row.tag, articles=int(row.articles), previous=int(row.previous))
            for row in rows
        ]

    async def trending(
        self, window: Window, *, viewer_id: int | None, limit: int
    ) -> list[TrendingArticle]:
        parameters = {**_window(window), "top_limit": limit, "viewer_id": viewer_id}
        statement = _trending_statement(viewer_id is not None)
        rows = (await self._connection.execute(statement, parameters)).all()
        articles = await summaries(self._connection, rows)
        return [
            TrendingArticle(article=summary, favorites=int(row.received))
            for summary, row in zip(articles, rows, strict=True)
        ]

    async def author_stats(
        self, username: str, *, viewer_id: int | None, top: int
    ) -> AuthorStats | None:
        signed_in = viewer_id is not None
        parameters = {"author_key": rules.username_key(username), "viewer_id": viewer_id}
        row = (await self._connection.execute(_author_statement(signed_in), parameters)).first()
        if row is None:
            return None
        best = await self._connection.execute(
            _top_articles_statement(signed_in),
            {"author_id": row.id, "top_limit": top, "viewer_id": viewer_id},
        )
        return AuthorStats(
            profile=profile_of(row),
            articles=int(row.articles_count),
            favorites_received=int(row.favorites_received),
            followers=int(row.followers),
            following=int(row.following_count),
            top_articles=tuple(await summaries(self._connection, best.all())),
        )
