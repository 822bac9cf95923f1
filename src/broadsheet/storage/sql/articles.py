"""Articles: writes, and the read models built with joins and correlated subqueries.

A list page costs two statements whatever its size: the page (author, following,
favorited, favoritesCount and the total count in one SELECT) and the page's tags; a page
past the end counts instead of fetching tags.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    delete,
    exists,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from broadsheet.domain import rules
from broadsheet.domain.errors import TransientConflict
from broadsheet.domain.models import (
    Article,
    ArticleChanges,
    ArticleFilter,
    ArticleSummary,
    ArticleView,
    NewArticle,
    Page,
)
from broadsheet.storage.sql.dialects import inserted_id, retryable
from broadsheet.storage.sql.tables import article, article_tag, favorite, follow, user_account
from broadsheet.storage.sql.users import following, profile_of

author = user_account.alias("author")
_NEWEST_FIRST = (article.c.created_at.desc(), article.c.id.desc())


def _summary_query(viewer_id: int | None, *, with_body: bool = False) -> Select[Any]:
    """Articles joined to their authors, with the viewer-relative columns computed inline."""
    favorites_count = (
        select(func.count())
        .where(favorite.c.article_id == article.c.id)
        .scalar_subquery()
        .label("favorites_count")
    )
    favorited: ColumnElement[bool] = (
        false()
        if viewer_id is None
        else exists().where(favorite.c.article_id == article.c.id, favorite.c.user_id == viewer_id)
    )
    columns = [
        article.c.id,
        article.c.slug,
        article.c.title,
        article.c.description,
        article.c.created_at,
        article.c.updated_at,
        favorites_count,
        favorited.label("favorited"),
        author.c.username.label("author_username"),
        author.c.bio.label("author_bio"),
        author.c.image.label("author_image"),
        following(viewer_id, article.c.author_id).label("author_following"),
    ]
    if with_body:
        columns.append(article.c.body)
    return select(*columns).join_from(article, author, article.c.author_id == author.c.id)


def _summary_fields(row: Row[Any], tags: Sequence[str]) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tags": tuple(tags),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "favorited": bool(row.favorited),
        "favorites_count": int(row.favorites_count),
        "author": profile_of(row, prefix="author_"),
    }


def _filter_conditions(filters: ArticleFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.tag is not None:
        conditions.append(
            exists().where(
                article_tag.c.article_id == article.c.id, article_tag.c.tag == filters.tag
            )
        )
    if filters.author is not None:
        conditions.append(author.c.username_key == rules.username_key(filters.author))
    if filters.favorited_by is not None:
        fan = user_account.alias("fan")
        conditions.append(
            exists()
            .where(favorite.c.article_id == article.c.id)
            .where(favorite.c.user_id == fan.c.id)
            .where(fan.c.username_key == rules.username_key(filters.favorited_by))
        )
    return conditions


class SqlArticles:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, new: NewArticle) -> Article:
        async with retryable(self._connection):
            result = await self._connection.execute(
                insert(article).values(
                    slug=new.slug,
                    title=new.title,
                    description=new.description,
                    body=new.body,
                    author_id=new.author_id,
                    created_at=new.created_at,
                    updated_at=new.created_at,
                )
            )
            article_id = inserted_id(result)
            await self._insert_tags(article_id, new.tags)
        return Article(
            id=article_id,
            slug=new.slug,
            title=new.title,
            description=new.description,
            body=new.body,
            tags=new.tags,
            author_id=new.author_id,
            created_at=new.created_at,
            updated_at=new.created_at,
        )

    async def get_by_slug(self, slug: str) -> Article | None:
        row = (
            await self._connection.execute(select(article).where(article.c.slug == slug))
        ).first()
        if row is None:
            return None
        tags = await self._tags_of([row.id])
        return Article(
            id=row.id,
            slug=row.slug,
            title=row.title,
            description=row.description,
            body=row.body,
            tags=tuple(tags[row.id]),
            author_id=row.author_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def update(
        self, before: Article, changes: ArticleChanges, *, updated_at: datetime
    ) -> Article:
        tags = before.tags if changes.tags is None else changes.tags
        async with retryable(self._connection):
            # Compare-and-set on the version read: at READ COMMITTED a concurrent edit that
            # committed first (or a delete) leaves no row matching, and the row lock taken
            # here makes any later one wait for this transaction and then match nothing.
            result = await self._connection.execute(
                update(article)
                .where(article.c.id == before.id, article.c.updated_at == before.updated_at)
                .values(**changes.columns(), updated_at=updated_at)
            )
            if result.rowcount != 1:
                raise TransientConflict
            if removed := set(before.tags) - set(tags):
                await self._connection.execute(
                    delete(article_tag).where(
                        article_tag.c.article_id == before.id, article_tag.c.tag.in_(removed)
                    )
                )
            await self._insert_tags(before.id, [tag for tag in tags if tag not in before.tags])
        return changes.applied_to(before, updated_at=updated_at)

    async def delete(self, article_id: int) -> None:
        # Tags, comments and favorites go with it: ON DELETE CASCADE, same transaction.
        await self._connection.execute(delete(article).where(article.c.id == article_id))

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None:
        query = _summary_query(viewer_id, with_body=True).where(article.c.slug == slug)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        tags = await self._tags_of([row.id])
        return ArticleView(**_summary_fields(row, tags[row.id]), body=row.body)

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        return await self._page(_filter_conditions(filters), viewer_id, limit, offset)

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        followed = select(follow.c.followee_id).where(follow.c.follower_id == viewer_id)
        return await self._page([article.c.author_id.in_(followed)], viewer_id, limit, offset)

    async def _page(
        self,
        conditions: list[ColumnElement[bool]],
        viewer_id: int | None,
        limit: int,
        offset: int,
    ) -> Page[ArticleSummary]:
        matching = _summary_query(viewer_id).where(*conditions)
        # The total rides along on every row (a window over all matches, before LIMIT).
        page = (
            matching.add_columns(func.count().over().label("total"))
            .order_by(*_NEWEST_FIRST)
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._connection.execute(page)).all()
        if rows:
            total = int(rows[0].total)
            tags = await self._tags_of([row.id for row in rows])
        elif offset == 0:
            total, tags = 0, defaultdict(list)
        else:  # past the end: no row carries the total
            counted = matching.with_only_columns(func.count()).order_by(None)
            total, tags = (
                int((await self._connection.execute(counted)).scalar_one()),
                defaultdict(list),
            )
        items = tuple(ArticleSummary(**_summary_fields(row, tags[row.id])) for row in rows)
        return Page(items, total)

    async def _tags_of(self, article_ids: Sequence[int]) -> defaultdict[int, list[str]]:
        query = (
            select(article_tag.c.article_id, article_tag.c.tag)
            .where(article_tag.c.article_id.in_(article_ids))
            .order_by(article_tag.c.article_id, article_tag.c.tag)
        )
        tags: defaultdict[int, list[str]] = defaultdict(list)
        for row in await self._connection.execute(query):
            tags[row.article_id].append(row.tag)
        return tags

    async def _insert_tags(self, article_id: int, tags: Iterable[str]) -> None:
        rows = [{"article_id": article_id, "tag": tag} for tag in tags]
        if rows:
            await self._connection.execute(insert(article_tag), rows)
