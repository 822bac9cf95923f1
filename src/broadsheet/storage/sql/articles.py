"""Articles: writes that keep the counters, and read models built with joins.

Every list is index-ordered and counted by a counter, so that its cost does not grow with
the site. The page's keys come newest first from the index of the rows the filter starts
from (``article``, ``article_tag`` or ``favorite``, each carrying the article's
``created_at``); only the page's rows are then joined to their articles and authors; the
total is a counter row (``site_total``, ``tag``, ``user_account``) kept in the same
transaction as every write that changes it. A list page costs two statements, the page
(its total riding along) and the page's tags; a page past the end reads the total alone.
See docs/performance.md.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Executable,
    FromClause,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    insert,
    select,
    true,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter

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
    Profile,
)
from broadsheet.domain.search import SearchQuery, document_terms
from broadsheet.storage.sql import search as search_index
from broadsheet.storage.sql.dialects import add_to_counters, inserted_id, retryable
from broadsheet.storage.sql.tables import (
    ARTICLES_TOTAL,
    article,
    article_tag,
    favorite,
    follow,
    site_total,
    tag,
    tag_subscription,
    user_account,
)
from broadsheet.storage.sql.users import VIEWER_ID, following

author = user_account.alias("author")
_NEWEST_FIRST = (article.c.created_at.desc(), article.c.id.desc())


def summary_columns(signed_in: bool, *, with_body: bool = False) -> list[Any]:
    """An article and its author, with the viewer-relative columns computed inline (for the
    ``viewer_id`` parameter when signed in)."""
    favorited: ColumnElement[bool] = (
        exists().where(favorite.c.article_id == article.c.id, favorite.c.user_id == VIEWER_ID)
        if signed_in
        else false()
    )
    # Counted for the page's rows only, from the favorite index: a counter on the article's
    # row would make every favorite of a popular article wait for the one before to commit.
    favorites_count = (
        select(func.count())
        .where(favorite.c.article_id == article.c.id)
        .scalar_subquery()
        .label("favorites_count")
    )
    columns: list[Any] = [
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
        following(signed_in, article.c.author_id).label("author_following"),
    ]
    if with_body:
        columns.append(article.c.body)
    return columns


def with_author(articles: FromClause) -> FromClause:
    return articles.join(author, article.c.author_id == author.c.id)


def summary_fields(row: Row[Any], tags: Sequence[str]) -> dict[str, Any]:
    return {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tags": tuple(tags),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "favorited": bool(row.favorited),
        "favorites_count": int(row.favorites_count),
        "author": Profile(
            username=row.author_username,
            bio=row.author_bio,
            image=row.author_image,
            following=bool(row.author_following),
        ),
    }


# -- lists -------------------------------------------------------------------------------
# Each statement is built once per shape (which filters, signed in or not) and run with its
# values as parameters: building and keying a list's statements took longer than running
# them (docs/performance.md).

_FAVORITED_KEY: BindParameter[str] = bindparam("favorited_key")
_TAG: BindParameter[str] = bindparam("tag")
_AUTHOR_KEY: BindParameter[str] = bindparam("author_key")
_LIMIT = bindparam("page_limit", type_=Integer)
_OFFSET = bindparam("page_offset", type_=Integer)
# The feed: how deep into each followed author's articles a page reaches (offset + limit),
# and that less one, as separate values (MariaDB takes no arithmetic in LIMIT or OFFSET).
_DEPTH = bindparam("feed_depth", type_=Integer)
_DEPTH_LAST = bindparam("feed_depth_last", type_=Integer)
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_SLUG: BindParameter[str] = bindparam("slug")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a list statement depends on besides its parameters."""

    favorited: bool = False
    tag: bool = False
    author: bool = False
    feed: bool = False
    subscribed_tags: bool = False  # the feed, with the subscribed tags' articles too

    @classmethod
    def of(cls, filters: ArticleFilter) -> _Shape:
        return cls(
            favorited=filters.favorited_by is not None,
            tag=filters.tag is not None,
            author=filters.author is not None,
        )


def _parameters(filters: ArticleFilter) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if filters.favorited_by is not None:
        values["favorited_key"] = rules.username_key(filters.favorited_by)
    if filters.tag is not None:
        values["tag"] = filters.tag
    if filters.author is not None:
        values["author_key"] = rules.username_key(filters.author)
    return values


@dataclass(frozen=True, slots=True)
class _Listing:
    """Which articles a list shows and how they are counted.

    ``keys`` selects ``id`` and ``created_at`` from the rows the list starts from, so that
    one index serves both the filter and the order ``newest_first``. ``total`` is a counter,
    or None where no counter covers the combination of filters (the matches are counted)."""

    keys: Select[Any]
    newest_first: tuple[ColumnElement[Any], ...]
    total: ColumnElement[int] | None


def _user_id(key: ColumnElement[str]) -> ColumnElement[int]:
    return select(user_account.c.id).where(user_account.c.username_key == key).scalar_subquery()


def _counter(query: Select[Any]) -> ColumnElement[int]:
    """A counter's value, 0 where its row does not exist (an unknown tag or user)."""
    return func.coalesce(query.scalar_subquery(), 0)


def _user_counter(key: ColumnElement[str], column: str) -> ColumnElement[int]:
    return _counter(select(user_account.c[column]).where(user_account.c.username_key == key))


def _listing(shape: _Shape, dialect: str) -> _Listing:
    """The filter that leads (favorited, else tag, else author) picks the rows and index the
    list starts from; any other filter then narrows it, and is counted."""
    if shape.subscribed_tags:
        return _feed_with_tags_listing()
    if shape.feed:
        return _feed_listing(lateral=dialect == "postgresql")
    if shape.favorited:
        keys = select(
            favorite.c.article_id.label("id"), favorite.c.article_created_at.label("created_at")
        ).where(favorite.c.user_id == _user_id(_FAVORITED_KEY))
        article_id: ColumnElement[int] = favorite.c.article_id
        newest_first = (favorite.c.article_created_at.desc(), favorite.c.article_id.desc())
        total = _user_counter(_FAVORITED_KEY, "favorites_count")
    elif shape.tag:
        keys = select(
            article_tag.c.article_id.label("id"), article_tag.c.created_at.label("created_at")
        ).where(article_tag.c.tag == _TAG)
        article_id = article_tag.c.article_id
        newest_first = (article_tag.c.created_at.desc(), article_tag.c.article_id.desc())
        total = _counter(select(tag.c.articles_count).where(tag.c.name == _TAG))
    elif shape.author:
        keys = select(article.c.id, article.c.created_at).where(
            article.c.author_id == _user_id(_AUTHOR_KEY)
        )
        return _Listing(keys, _NEWEST_FIRST, _user_counter(_AUTHOR_KEY, "articles_count"))
    else:
        everything = select(site_total.c.value).where(site_total.c.name == ARTICLES_TOTAL)
        return _Listing(
            select(article.c.id, article.c.created_at), _NEWEST_FIRST, _counter(everything)
        )

    narrowed = False
    if shape.favorited and shape.tag:
        tagged = exists().where(article_tag.c.article_id == article_id, article_tag.c.tag == _TAG)
        keys, narrowed = keys.where(tagged), True
    if shape.author:
        written = select(article.c.id).where(article.c.author_id == _user_id(_AUTHOR_KEY))
        keys, narrowed = keys.where(article_id.in_(written)), True
    return _Listing(keys, newest_first, None if narrowed else total)


def _feed_listing(*, lateral: bool) -> _Listing:
    """The followed authors' articles; their total is the sum of those authors' counters.

    A page of the feed holds only articles among their author's newest ``offset + limit``
    (the *depth*), so each followed author is read from their index ``(author_id,
    created_at, id)`` that deep, and the page is sorted from those: O(followed x depth),
    whoever is followed. (Walking every article newest first and probing the follows,
    PostgreSQL's own choice for ``author_id IN (followed)``, stops after the page only when
    the followed authors write often: following one quiet author took 2.5 s at 1M articles.
    SQLite and MariaDB instead read and sort every article of the followed authors.)

    PostgreSQL reads each author's newest through a LATERAL join. SQLite and MariaDB have no
    LATERAL: correlated subqueries find each author's ``depth``-th newest ``created_at``,
    and the join takes that author's articles from there on, a range of the same index.
    """
    followed = select(follow.c.followee_id).where(follow.c.follower_id == VIEWER_ID)
    their_articles = select(func.sum(user_account.c.articles_count)).where(
        user_account.c.id.in_(followed)
    )
    if lateral:
        newest = (
            select(article.c.id, article.c.created_at)
            .where(article.c.author_id == follow.c.followee_id)
            .order_by(*_NEWEST_FIRST)
            .limit(_DEPTH)
            .lateral("newest")
        )
        keys = (
            select(newest.c.id, newest.c.created_at)
            .select_from(follow.join(newest, true()))
            .where(follow.c.follower_id == VIEWER_ID)
        )
        newest_first = (newest.c.created_at.desc(), newest.c.id.desc())
        return _Listing(keys, newest_first, _counter(their_articles))
    older, oldest = article.alias("older"), article.alias("oldest")
    deepest = select(older.c.created_at).where(older.c.author_id == follow.c.followee_id)
    since = func.coalesce(
        deepest.order_by(older.c.created_at.desc(), older.c.id.desc())
        .limit(1)
        .offset(_DEPTH_LAST)
        .scalar_subquery(),
        # An author with fewer articles than the depth: all of them.
        select(func.min(oldest.c.created_at))
        .where(oldest.c.author_id == follow.c.followee_id)
        .scalar_subquery(),
    )
    # The bound depends on the follow row alone, so it bounds the index range of each author.
    recent = and_(article.c.author_id == follow.c.followee_id, article.c.created_at >= since)
    keys = (
        select(article.c.id, article.c.created_at)
        .select_from(follow.join(article, recent))
        .where(follow.c.follower_id == VIEWER_ID)
    )
    return _Listing(keys, _NEWEST_FIRST, _counter(their_articles))


def _feed_with_tags_listing() -> _Listing:
    """The followed authors' articles and the subscribed tags' articles, each once (UNION
    removes an article found both ways). Each half starts from its own index (an author's
    ``(author_id, created_at, id)``, a tag's ``(tag, created_at, article_id)``); no counter
    can count a union without counting its overlap twice, so the matches are counted."""
    by_followed = (
        select(article.c.id, article.c.created_at)
        .select_from(follow.join(article, article.c.author_id == follow.c.followee_id))
        .where(follow.c.follower_id == VIEWER_ID)
    )
    by_tags = (
        select(article_tag.c.article_id.label("id"), article_tag.c.created_at)
        .select_from(
            tag_subscription.join(article_tag, article_tag.c.tag == tag_subscription.c.tag)
        )
        .where(tag_subscription.c.user_id == VIEWER_ID)
    )
    matches = union(by_followed, by_tags).subquery("matches")
    keys = select(matches.c.id, matches.c.created_at)
    return _Listing(keys, (matches.c.created_at.desc(), matches.c.id.desc()), None)


@functools.cache
def _page_statements(
    shape: _Shape, signed_in: bool, dialect: str
) -> tuple[Select[Any], Select[Any]]:
    """The page (its total riding along), and the total alone for a page past the end."""
    listing = _listing(shape, dialect)
    keys, total = listing.keys, listing.total
    if total is None:  # no counter covers it: count the matches, a window before LIMIT
        keys = keys.add_columns(func.count().over().label("matches"))
    # The page's keys first, from the index alone (a deep OFFSET skips index entries,
    # not joined rows); then only those rows are joined to their articles and authors.
    page = keys.order_by(*listing.newest_first).limit(_LIMIT).offset(_OFFSET).subquery("page")
    query: Select[Any] = (
        select(
            *summary_columns(signed_in),
            (page.c.matches if total is None else total).label("total"),
        )
        .select_from(with_author(page.join(article, article.c.id == page.c.id)))
        .order_by(page.c.created_at.desc(), page.c.id.desc())
    )
    counted = (
        select(func.count()).select_from(listing.keys.subquery())
        if total is None
        else select(total)
    )
    return query, counted


@functools.cache
def _view_statement(signed_in: bool) -> Select[Any]:
    return (
        select(*summary_columns(signed_in, with_body=True))
        .select_from(with_author(article))
        .where(article.c.slug == _SLUG)
    )


_BY_SLUG = select(article).where(article.c.slug == _SLUG)
_TAGS_OF = (
    select(article_tag.c.article_id, article_tag.c.tag)
    .where(article_tag.c.article_id.in_(_IDS))
    .order_by(article_tag.c.article_id, article_tag.c.tag)
)


@functools.cache
def _search_statements(signed_in: bool, dialect: str) -> tuple[Select[Any], Executable]:
    """As ``_page_statements``, for the matches of a full-text query, most relevant first."""
    page = search_index.matching_keys(dialect).subquery("page")
    query: Select[Any] = (
        select(*summary_columns(signed_in), page.c.matches.label("total"))
        .select_from(with_author(page.join(article, article.c.id == page.c.id)))
        .order_by(page.c.relevance.desc(), page.c.created_at.desc(), page.c.id.desc())
    )
    return query, search_index.count_matches(dialect)


class SqlArticles:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name

    # -- writes: each keeps the counters in the same transaction --------------------------
    # Rows are locked in one order by every write (article, users, tags, site_total), so
    # two writers wait for each other rather than deadlock; a deadlock would still only be
    # a TransientConflict, and the use case would run again.

    async def add(self, new: NewArticle) -> Article:
        async with retryable(self._connection):
            # The author's row before the insert's foreign-key check share-locks it: two
            # articles by one author then queue here instead of deadlocking (MariaDB). A
            # taken slug rolls the savepoint back, the count included.
            await self._count_articles(author_id=new.author_id, change=1)
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
        await search_index.add(
            self._connection, article_id, document_terms(new.title, new.description, new.body)
        )
        await self._tag(article_id, new.created_at, new.tags)
        await add_to_counters(self._connection, site_total, [ARTICLES_TOTAL], "value")
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
        row = (await self._connection.execute(_BY_SLUG, {"slug": slug})).first()
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
        after = changes.applied_to(before, updated_at=updated_at)
        if {"title", "description", "body"} & changes.columns().keys():
            terms = document_terms(after.title, after.description, after.body)
            await search_index.replace(self._connection, before.id, terms)
        await self._untag(before.id, [name for name in before.tags if name not in tags])
        await self._tag(before.id, before.created_at, [t for t in tags if t not in before.tags])
        return after

    async def delete(self, article_id: int) -> None:
        # The row lock first: a favorite or tag edit racing this delete waits for it, so
        # the counters below see every row the cascade will take.
        author_id = (
            await self._connection.execute(
                select(article.c.author_id).where(article.c.id == article_id).with_for_update()
            )
        ).scalar_one_or_none()
        if author_id is None:
            return
        fans = select(favorite.c.user_id).where(favorite.c.article_id == article_id)
        await self._connection.execute(
            update(user_account)
            .where(user_account.c.id.in_(fans))
            .values(favorites_count=user_account.c.favorites_count - 1)
        )
        await self._count_articles(author_id=author_id, change=-1)
        names = select(article_tag.c.tag).where(article_tag.c.article_id == article_id)
        await self._connection.execute(
            update(tag).where(tag.c.name.in_(names)).values(articles_count=tag.c.articles_count - 1)
        )
        await self._connection.execute(
            update(site_total)
            .where(site_total.c.name == ARTICLES_TOTAL)
            .values(value=site_total.c.value - 1)
        )
        # Tags, comments, favorites and the search row go with it: ON DELETE CASCADE (on
        # SQLite a trigger for the search row), same transaction.
        await self._connection.execute(delete(article).where(article.c.id == article_id))

    async def _count_articles(self, *, author_id: int, change: int) -> None:
        await self._connection.execute(
            update(user_account)
            .where(user_account.c.id == author_id)
            .values(articles_count=user_account.c.articles_count + change)
        )

    async def _tag(self, article_id: int, created_at: datetime, names: Sequence[str]) -> None:
        if not names:
            return
        await self._connection.execute(
            insert(article_tag),
            [{"article_id": article_id, "tag": name, "created_at": created_at} for name in names],
        )
        await add_to_counters(self._connection, tag, names, "articles_count")

    async def _untag(self, article_id: int, names: Sequence[str]) -> None:
        if not names:
            return
        await self._connection.execute(
            delete(article_tag).where(
                article_tag.c.article_id == article_id, article_tag.c.tag.in_(names)
            )
        )
        await self._connection.execute(
            update(tag).where(tag.c.name.in_(names)).values(articles_count=tag.c.articles_count - 1)
        )

    # -- reads --------------------------------------------------------------------------

    async def view(self, slug: str, *, viewer_id: int | None) -> ArticleView | None:
        parameters = {"slug": slug, "viewer_id": viewer_id}
        statement = _view_statement(viewer_id is not None)
        row = (await self._connection.execute(statement, parameters)).first()
        if row is None:
            return None
        tags = await self._tags_of([row.id])
        return ArticleView(**summary_fields(row, tags[row.id]), body=row.body)

    async def find(
        self, filters: ArticleFilter, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        statements = _page_statements(_Shape.of(filters), viewer_id is not None, self._dialect)
        return await self._page(statements, _parameters(filters), viewer_id, limit, offset)

    async def feed_with_tags(
        self, *, viewer_id: int, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        shape = _Shape(feed=True, subscribed_tags=True)
        statements = _page_statements(shape, True, self._dialect)
        return await self._page(statements, {}, viewer_id, limit, offset)

    async def feed(self, *, viewer_id: int, limit: int, offset: int) -> Page[ArticleSummary]:
        depth = min(offset + limit, rules.MAX_ID)
        parameters = {"feed_depth": depth, "feed_depth_last": depth - 1}
        statements = _page_statements(_Shape(feed=True), viewer_id is not None, self._dialect)
        return await self._page(statements, parameters, viewer_id, limit, offset)

    async def search(
        self, query: SearchQuery, *, viewer_id: int | None, limit: int, offset: int
    ) -> Page[ArticleSummary]:
        dialect = self._connection.dialect.name
        statements = _search_statements(viewer_id is not None, dialect)
        parameters = {"search_query": search_index.query_text(dialect, query)}
        return await self._page(statements, parameters, viewer_id, limit, offset)

    async def _page(
        self,
        statements: tuple[Select[Any], Executable],
        parameters: dict[str, Any],
        viewer_id: int | None,
        limit: int,
        offset: int,
    ) -> Page[ArticleSummary]:
        query, counted = statements
        if viewer_id is not None:
            parameters["viewer_id"] = viewer_id
        paged = {**parameters, "page_limit": limit, "page_offset": offset}
        rows = (await self._connection.execute(query, paged)).all()
        if rows:
            count, tags = int(rows[0].total), await self._tags_of([row.id for row in rows])
        else:  # past the end, or nothing at all: no row carries the total
            total = (await self._connection.execute(counted, parameters)).scalar_one()
            count, tags = int(total), defaultdict(list)
        items = tuple(ArticleSummary(**summary_fields(row, tags[row.id])) for row in rows)
        return Page(items, count)

    async def _tags_of(self, article_ids: Sequence[int]) -> defaultdict[int, list[str]]:
        return await tags_of(self._connection, article_ids)


async def tags_of(
    connection: AsyncConnection, article_ids: Sequence[int]
) -> defaultdict[int, list[str]]:
    """Each article's tags, alphabetical, in one round trip."""
    tags: defaultdict[int, list[str]] = defaultdict(list)
    if article_ids:
        for row in await connection.execute(_TAGS_OF, {"ids": list(article_ids)}):
            tags[row.article_id].append(row.tag)
    return tags


async def summaries(connection: AsyncConnection, rows: Sequence[Row[Any]]) -> list[ArticleSummary]:
    """Rows of ``summary_columns`` as summaries, their tags read in one round trip."""
    tags = await tags_of(connection, [row.id for row in rows])
    return [ArticleSummary(**summary_fields(row, tags[row.id])) for row in rows]
