"""The integrity check of the relational schema.

Every reference is a foreign key and every counter moves in the transaction of the rows it
counts, so a healthy database has nothing to find. The check still looks: for rows whose
parent is gone (possible only if foreign keys were ever off, e.g. an SQLite file written
without ``PRAGMA foreign_keys``), for counters that disagree with the rows (rows written
around the adapter), and for sort keys copied from an article that differ from it. With
``repair`` it deletes the orphans first, then recounts and recopies from what is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Table, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.models import Finding
from broadsheet.storage.sql.tables import (
    ARTICLES_TOTAL,
    article,
    article_tag,
    comment,
    favorite,
    follow,
    site_total,
    tag,
    user_account,
)

# (rows, their reference, the table it refers to by id, how a finding names the rows)
REFERENCES: list[tuple[Table, str, Table, str]] = [
    (article, "author_id", user_account, "articles by missing user"),
    (article_tag, "article_id", article, "tags of missing article"),
    (comment, "article_id", article, "comments on missing article"),
    (comment, "author_id", user_account, "comments by missing user"),
    (favorite, "article_id", article, "favorites of missing article"),
    (favorite, "user_id", user_account, "favorites by missing user"),
    (follow, "follower_id", user_account, "follows by missing user"),
    (follow, "followee_id", user_account, "follows of missing user"),
]


def _count(table: Table, *where: ColumnElement[bool]) -> ColumnElement[int]:
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


@dataclass(frozen=True, slots=True)
class _Counter:
    """A kept value, the truth it must equal (correlated to its row), and how a finding
    names the row ("article 7 (a-slug)")."""

    kind: str
    kept: Column[int]
    truth: ColumnElement[int]
    name: Callable[[object, object], str]
    label: Column[str]


_live_favorite = exists().where(article.c.id == favorite.c.article_id)
COUNTERS = [
    _Counter(
        "favorites_count",
        article.c.favorites_count,
        _count(favorite, favorite.c.article_id == article.c.id),
        lambda key, label: f"article {key} ({label})",
        article.c.slug,
    ),
    _Counter(
        "articles_count",
        user_account.c.articles_count,
        _count(article, article.c.author_id == user_account.c.id),
        lambda key, label: f"user {key} ({label})",
        user_account.c.username,
    ),
    _Counter(
        "favorites_count",
        user_account.c.favorites_count,
        _count(favorite, favorite.c.user_id == user_account.c.id, _live_favorite),
        lambda key, label: f"user {key} ({label})",
        user_account.c.username,
    ),
    _Counter(
        "articles_count",
        tag.c.articles_count,
        _count(
            article_tag,
            article_tag.c.tag == tag.c.name,
            exists().where(article.c.id == article_tag.c.article_id),
        ),
        lambda key, _label: f"tag {key}",
        tag.c.name,
    ),
    _Counter(
        "articles_total",
        site_total.c.value,
        select(func.count()).select_from(article).scalar_subquery(),
        lambda _key, _label: "site",
        site_total.c.name,
    ),
]

# (rows holding a copy of the article's created_at, the copy)
COPIES: list[tuple[Table, Column[object]]] = [
    (article_tag, article_tag.c.created_at),
    (favorite, favorite.c.article_created_at),
]


async def check(connection: AsyncConnection, *, repair: bool) -> list[Finding]:
    findings = await _orphans(connection, repair=repair)
    findings += await _missing_counter_rows(connection, repair=repair)
    for counter in COUNTERS:
        findings += await _recount(connection, counter, repair=repair)
    for rows, copy in COPIES:
        findings += await _recopy(connection, rows, copy, repair=repair)
    return findings


async def _orphans(connection: AsyncConnection, *, repair: bool) -> list[Finding]:
    findings: list[Finding] = []
    for rows, column_name, parent, kind in REFERENCES:
        reference: Column[int] = rows.c[column_name]
        dangling = ~exists().where(parent.c.id == reference)
        counted = (
            select(reference, func.count().label("rows"))
            .where(dangling)
            .group_by(reference)
            .order_by(reference)
        )
        found = (await connection.execute(counted)).all()
        for missing_id, count in found:
            findings.append(
                Finding(kind="orphan", detail=f"{count} {kind} {missing_id}", repaired=repair)
            )
        if found and repair:
            await connection.execute(delete(rows).where(dangling))
    return findings


async def _missing_counter_rows(connection: AsyncConnection, *, repair: bool) -> list[Finding]:
    """Tags in use without their counter row, and the site total's row; repaired at 0, so
    that the recount below sets them."""
    findings: list[Finding] = []
    uncounted = (
        select(article_tag.c.tag)
        .where(~exists().where(tag.c.name == article_tag.c.tag))
        .distinct()
        .order_by(article_tag.c.tag)
    )
    names = list((await connection.scalars(uncounted)).all())
    total_missing = not await connection.scalar(
        select(exists().where(site_total.c.name == ARTICLES_TOTAL))
    )
    for name in names:
        findings.append(
            Finding(kind="articles_count", detail=f"tag {name} has no counter", repaired=repair)
        )
    if total_missing:
        findings.append(
            Finding(kind="articles_total", detail="site has no counter", repaired=repair)
        )
    if repair:
        if names:
            await connection.execute(
                tag.insert(), [{"name": name, "articles_count": 0} for name in names]
            )
        if total_missing:
            await connection.execute(site_total.insert().values(name=ARTICLES_TOTAL, value=0))
    return findings


async def _recount(
    connection: AsyncConnection, counter: _Counter, *, repair: bool
) -> list[Finding]:
    table = counter.kept.table
    assert isinstance(table, Table)
    key = table.primary_key.columns.values()[0]
    drifted = (
        select(key, counter.label, counter.kept, counter.truth.label("truth"))
        .where(counter.kept != counter.truth)
        .order_by(key)
    )
    found = (await connection.execute(drifted)).all()
    findings = [
        Finding(
            kind=counter.kind,
            detail=f"{counter.name(row[0], row[1])} says {row[2]}, has {row.truth}",
            repaired=repair,
        )
        for row in found
    ]
    if found and repair:
        await connection.execute(
            update(table).where(counter.kept != counter.truth).values({counter.kept: counter.truth})
        )
    return findings


async def _recopy(
    connection: AsyncConnection, rows: Table, copy: Column[object], *, repair: bool
) -> list[Finding]:
    original = (
        select(article.c.created_at).where(article.c.id == rows.c.article_id).scalar_subquery()
    )
    differing = exists().where(article.c.id == rows.c.article_id, article.c.created_at != copy)
    count = await connection.scalar(select(func.count()).select_from(rows).where(differing))
    if not count:
        return []
    if repair:
        await connection.execute(update(rows).where(differing).values({copy: original}))
    return [
        Finding(
            kind="sort key",
            detail=f"{count} {rows.name}.{copy.name} differ from their article's created_at",
            repaired=repair,
        )
    ]
