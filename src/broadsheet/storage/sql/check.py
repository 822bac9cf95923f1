"""The integrity check of the relational schema.

Counts are computed on every read and every reference is a foreign key, so a healthy
database has nothing to find; the check still looks, reference by reference, for rows
whose parent is gone (possible only if foreign keys were ever off, e.g. an SQLite file
written without ``PRAGMA foreign_keys``), and with ``repair`` deletes them.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from broadsheet.domain.models import Finding
from broadsheet.storage.sql.tables import (
    article,
    article_tag,
    comment,
    favorite,
    follow,
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


async def check(connection: AsyncConnection, *, repair: bool) -> list[Finding]:
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
                Finding(
                    kind="orphan",
                    detail=f"{count} {kind} {missing_id}",
                    repaired=repair,
                )
            )
        if found and repair:
            await connection.execute(delete(rows).where(dangling))
    return findings
